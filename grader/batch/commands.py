"""Click commands for grading a class, merging CI shards, regrading and exporting.

grader/cli.py registers them on the main `grade` group; they take plain parameters and
end through sys.exit with the codes of grader/cli_common.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from grader.api import grade_one
from grader.batch.progress import ProgressBar
from grader.batch.runner import BatchSettings, StudentOutcome, plan_class, run_plan
from grader.batch.shard import ShardError, parse_shard
from grader.batch.summary import summary_table
from grader.batch.workers import GradeFn
from grader.cli_common import (
    EXIT_OK,
    exit_code,
    load_reference_or_usage_error,
    no_code_option,
    out_option,
)
from grader.gradebook import DEFAULT_GRADEBOOK, Gradebook, GradebookError
from grader.pipeline import GradeOptions, SubmissionNotFound

F = TypeVar("F", bound=Callable[..., Any])


def batch_options(command: F) -> F:
    """The options `grade PATH` takes for a class folder (add them to the `run` command)."""
    options = (
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            default=None,
            help="Students graded at once [default: one per core].",
        ),
        click.option("--force", is_flag=True, help="Grade again even where nothing changed."),
        click.option(
            "--shard",
            default=None,
            metavar="I/N",
            help="Grade only share I of N of the class (split by a stable hash of the name).",
        ),
        click.option(
            "--gradebook",
            "gradebook_path",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="The gradebook database [default: OUT/gradebook.sqlite].",
        ),
        click.option(
            "--require-layers",
            "require_layers",
            default="",
            metavar="LAYER,...",
            help="Run no student code unless these isolation layers work here "
            "(rlimits, uid, bubblewrap, landlock, seccomp, subreaper).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=1),
            default=900.0,
            show_default=True,
            help="Seconds one student may take before that student is stopped.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def parse_layers(text: str) -> tuple[str, ...]:
    """`--require-layers bubblewrap,seccomp` as names; an unknown name is a usage error."""
    from grader.sandbox.layers import Layer

    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    known = {layer.value for layer in Layer}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.UsageError(
            f"unknown isolation layer {', '.join(unknown)}: use {', '.join(sorted(known))}"
        )
    return names


def _open(path: Path) -> Gradebook:
    try:
        return Gradebook(path)
    except GradebookError as exc:
        raise click.UsageError(str(exc)) from None


def _settings(jobs: int | None, force: bool, shard: str | None, timeout: float) -> BatchSettings:
    try:
        parsed = None if shard is None else parse_shard(shard)
    except ShardError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None
    return BatchSettings(jobs=jobs, force=force, shard=parsed, timeout_s=timeout)


def write_exports(out_dir: Path, gradebook: Gradebook, assignment: str = "HW4") -> list[Path]:
    """CSV gradebook, JUnit XML and class summary of the gradebook's current results."""
    from grader.exports.class_summary import write_class_summary
    from grader.exports.csv_export import write_csv
    from grader.exports.junit import write_junit

    gradings = gradebook.current()
    runs = gradebook.runs()
    title = runs[-1].reference_title if runs else assignment
    return [
        write_csv(out_dir / "gradebook.csv", gradings, assignment),
        write_junit(out_dir / "junit.xml", gradings, title),
        *write_class_summary(out_dir, gradings, title),
    ]


def grade_class_command(
    path: Path,
    out_dir: Path,
    reference_path: Path,
    no_code: bool,
    jobs: int | None,
    force: bool,
    shard: str | None,
    gradebook_path: Path | None,
    timeout: float,
    require_layers: str = "",
    grade_fn: GradeFn = grade_one,
) -> int:
    """`grade CLASS_FOLDER`: returns the exit code (the caller passes it to sys.exit)."""
    reference = load_reference_or_usage_error(reference_path)
    settings = _settings(jobs, force, shard, timeout)
    if grade_fn is not grade_one:
        settings = replace(settings, preload=())  # torch is grade_one's need, not a fake's
    options = GradeOptions(run_code=not no_code, required_layers=parse_layers(require_layers))
    with _open(gradebook_path or out_dir / "gradebook.sqlite") as gradebook:
        try:
            plan = plan_class(path, reference, out_dir, gradebook, options, settings)
        except SubmissionNotFound as exc:
            raise click.UsageError(str(exc)) from None
        todo = len(plan.to_grade)
        click.echo(
            f"{len(plan.students)} students: {len(plan.students) - todo} unchanged since "
            f"they were graded, {todo} to grade with {min(settings.workers, max(todo, 1))} "
            "workers",
            err=True,
        )
        bar = ProgressBar(sys.stderr, len(plan.students), live=sys.stderr.isatty())

        def done(outcome: StudentOutcome) -> None:
            bar.advance(failed=outcome.failed, cached=outcome.reused)

        run = run_plan(plan, reference, out_dir, gradebook, options, settings, grade_fn, done)
        bar.finish()
        click.echo(summary_table(run))
        exports = write_exports(out_dir, gradebook)
        click.echo(f"Gradebook: {gradebook.path}; class exports: {', '.join(map(str, exports))}")
    return exit_code(run.input_errors, run.failures)


@click.command("merge")
@click.argument("target", type=click.Path(path_type=Path, dir_okay=False))
@click.argument(
    "sources", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@click.option(
    "--exports",
    "exports_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Also write the class exports (CSV, JUnit, summary) of the merged gradebook here.",
)
def merge_command(target: Path, sources: tuple[Path, ...], exports_dir: Path | None) -> None:
    """Combine gradebooks (e.g. one per CI shard) into TARGET; merging twice is harmless."""
    with _open(target) as merged:
        for source_path in sources:
            with _open(source_path) as source:
                copied = merged.import_from(source)
            click.echo(f"{source_path}: {copied} gradings merged")
        students = len(merged.current())
        click.echo(f"{target}: {students} students")
        if exports_dir is not None:
            for path in write_exports(exports_dir, merged):
                click.echo(f"wrote {path}")
    sys.exit(EXIT_OK)


@click.command("export")
@click.option(
    "--gradebook",
    "gradebook_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=DEFAULT_GRADEBOOK,
    show_default=True,
)
@out_option
@click.option("--assignment", default="HW4", show_default=True, help="Prefix of the CSV columns.")
@click.option(
    "--roster",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="CSV mapping each folder to Student, ID, SIS User ID, SIS Login ID, Section.",
)
def export_command(
    gradebook_path: Path, out_dir: Path, assignment: str, roster: Path | None
) -> None:
    """Write gradebook.csv (Canvas layout), junit.xml and class_summary.html/.md."""
    from grader.exports.csv_export import RosterError, read_roster, write_csv

    with _open(gradebook_path) as gradebook:
        paths = write_exports(out_dir, gradebook, assignment)
        if roster is not None:
            try:
                entries = read_roster(roster)
            except RosterError as exc:
                raise click.UsageError(str(exc)) from None
            paths[0] = write_csv(
                out_dir / "gradebook.csv", gradebook.current(), assignment, entries
            )
    for path in paths:
        click.echo(f"wrote {path}")
    sys.exit(EXIT_OK)


@click.command("regrade")
@click.argument("path", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--reference",
    "reference_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The edited reference to grade against.",
)
@out_option
@no_code_option
@click.option("--apply", "apply_", is_flag=True, help="Store the new results and reports.")
@batch_options
def regrade_command(
    path: Path,
    reference_path: Path,
    out_dir: Path,
    no_code: bool,
    apply_: bool,
    jobs: int | None,
    force: bool,
    shard: str | None,
    gradebook_path: Path | None,
    require_layers: str,
    timeout: float,
) -> None:
    """Show whose scores an edited reference changes (and why) before storing anything."""
    from grader.exports.regrade import apply_regrade, preview_regrade, render_preview

    reference = load_reference_or_usage_error(reference_path)
    settings = _settings(jobs, force, shard, timeout)
    with _open(gradebook_path or out_dir / "gradebook.sqlite") as gradebook:
        try:
            preview = preview_regrade(
                path,
                reference,
                out_dir,
                gradebook,
                GradeOptions(not no_code, parse_layers(require_layers)),
                settings,
            )
        except SubmissionNotFound as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(render_preview(preview, applying=apply_))
        if apply_:
            count = apply_regrade(preview, out_dir, gradebook)
            write_exports(out_dir, gradebook)
            click.echo(f"Stored the new results of {count} students in {gradebook.path}.")
    sys.exit(exit_code(preview.run.input_errors, preview.run.failures))
