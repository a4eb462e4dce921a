"""The `grade` command: a thin click shell over grader.api (exit codes: grader/cli_common.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.api import StudentReport, check_reference, find_submissions, grade_path
from grader.batch.commands import (
    batch_options,
    export_command,
    grade_class_command,
    merge_command,
    parse_layers,
    regrade_command,
)
from grader.cli_common import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    exit_code,
    load_reference_or_usage_error,
    no_code_option,
    out_option,
)
from grader.extraction.answers_file import TEMPLATE
from grader.pipeline import GradeOptions, SubmissionNotFound
from grader.reference import DEFAULT_REFERENCE

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "entry", "main"]

reference_option = click.option(
    "--reference",
    "reference_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_REFERENCE,
    show_default="reference/hw4.toml",
    help="The reference answers and rubric to grade against.",
)


class _GradeGroup(click.Group):
    """`grade PATH` grades; `grade check-reference` and `grade template` are commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="grader")
def main() -> None:
    """Grade Homework 4 submissions and write score reports.

    \b
    grade submissions/alice          grade one student (reports in reports/alice/)
    grade submissions/               grade every student folder in a class folder
    grade regrade submissions/ --reference new.toml    what an edit would change
    grade export                     CSV gradebook, JUnit XML, class summary
    grade check-reference            verify every reference answer after an edit
    grade template > answers.toml    an empty answer file for students
    """


@main.command("run")
@click.argument("path", type=click.Path(path_type=Path))
@out_option
@reference_option
@no_code_option
@batch_options
def run(
    path: Path,
    out_dir: Path,
    reference_path: Path,
    no_code: bool,
    jobs: int | None,
    force: bool,
    shard: str | None,
    gradebook_path: Path | None,
    require_layers: str,
    timeout: float,
) -> None:
    """Grade PATH: one submission folder, or a class folder of submission folders (in
    parallel, recorded in the gradebook, unchanged students reused)."""
    from grader.reporting import render_terminal

    try:
        is_class = find_submissions(path) != (path,)
    except SubmissionNotFound as exc:
        raise click.UsageError(str(exc)) from None
    if is_class:
        sys.exit(
            grade_class_command(
                path, out_dir, reference_path, no_code, jobs, force, shard, gradebook_path,
                timeout, require_layers,
            )
        )  # fmt: skip
    reference = load_reference_or_usage_error(reference_path)
    color = sys.stdout.isatty()

    def show(report: StudentReport) -> None:
        if report.result is not None:
            click.echo(render_terminal(report.result, color=color))
            click.echo(f"Reports: {report.report_dir}\n")
        else:
            click.secho(f"{report.student}: could not be graded: {report.error}", err=True)

    try:
        batch = grade_path(
            path, reference, out_dir, GradeOptions(not no_code, parse_layers(require_layers)), show
        )
    except SubmissionNotFound as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(exit_code(batch.input_errors, batch.failures))


@main.command("check-reference")
@reference_option
def check_reference_command(reference_path: Path) -> None:
    """Verify every reference answer independently (torch, sympy); non-zero exit on failure."""
    reference = load_reference_or_usage_error(reference_path, verify=False)
    checks = check_reference(reference)
    width = min(max(len(c.name) for c in checks), 64)
    click.echo(f"Reference {reference.path} (sha256 {reference.content_hash[:12]})")
    for c in checks:
        mark = click.style("ok  ", fg="green") if c.passed else click.style("FAIL", fg="red")
        detail = c.detail if len(c.detail) <= 90 else c.detail[:87] + "..."
        click.echo(f"{mark} {c.problem.value:3} {c.name:<{width}}  {detail}")
    failed = [c for c in checks if not c.passed]
    click.echo(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    sys.exit(EXIT_INPUT if failed else EXIT_OK)


@main.command("template")
def template() -> None:
    """Print an empty answers.toml with comments, for students to fill in."""
    click.echo(TEMPLATE, nl=False)


main.add_command(merge_command)
main.add_command(export_command)
main.add_command(regrade_command)


def entry() -> None:
    """Console-script entry: turns an unexpected crash into exit code 3 with a message."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        click.secho(f"grader error (a bug, please report it): {exc!r}", err=True, fg="red")
        sys.exit(EXIT_INTERNAL)
