"""Grading a class: parallel workers, resumable through the gradebook, shardable for CI."""

from grader.batch.runner import (
    BatchSettings,
    ClassPlan,
    ClassRun,
    StudentOutcome,
    grade_class,
    plan_class,
    run_plan,
)
from grader.batch.shard import Shard, ShardError, parse_shard

__all__ = [
    "BatchSettings",
    "ClassPlan",
    "ClassRun",
    "Shard",
    "ShardError",
    "StudentOutcome",
    "grade_class",
    "parse_shard",
    "plan_class",
    "run_plan",
]
