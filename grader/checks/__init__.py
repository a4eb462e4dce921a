"""Checks: one module per kind of check, each a small function from (spec, answer) to results."""
