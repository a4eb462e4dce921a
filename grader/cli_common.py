"""What every `grade` command shares: exit codes, loading the reference, the closing code.

Exit codes (documented in README.md and docs/ci.md):
  0  everything graded (whatever the students scored)
  1  graded, but some input could not be read (a malformed answers.toml, an entry in it
     that does not parse) or a student could not be graded at all: see the messages
  2  usage error: a path that does not exist, a bad option, an unusable reference file
  3  the grader itself failed (a bug: please report it)
"""

from __future__ import annotations

from pathlib import Path

import click

from grader.api import ReferenceBroken, ensure_reference_verified
from grader.reference import Reference, ReferenceFormatError, load_reference

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Reports go to OUT/<student>/; the gradebook and class exports to OUT/.",
)
no_code_option = click.option(
    "--no-code", is_flag=True, help="Do not run student code (P5 training, P7)."
)


def load_reference_or_usage_error(path: Path, *, verify: bool = True) -> Reference:
    """The reference, verified against itself unless `verify` is off (check-reference shows
    the whole table instead); an unusable one is a usage error with the reason."""
    try:
        reference = load_reference(path)
        if verify:
            ensure_reference_verified(reference)
    except (ReferenceFormatError, ReferenceBroken) as exc:
        raise click.UsageError(f"the reference cannot be used: {exc}") from None
    return reference


def exit_code(input_errors: tuple[str, ...], failures: tuple[str, ...]) -> int:
    """Print what could not be read or graded; 1 if anything, else 0."""
    for message in input_errors + failures:
        click.secho(f"error: {message}", err=True, fg="red")
    return EXIT_INPUT if input_errors or failures else EXIT_OK
