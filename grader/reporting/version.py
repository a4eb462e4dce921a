"""Which grader produced a report, recorded so a score can be traced to the code that gave it."""

from __future__ import annotations

from importlib import metadata


def grader_version() -> str:
    # The installed distribution's version; a source checkout run without installing has none.
    try:
        return metadata.version("grader")
    except metadata.PackageNotFoundError:
        return "source checkout (not installed)"
