"""Extraction: submission files (answers.toml, write-ups, code) into typed answers."""
