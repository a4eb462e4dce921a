"""The gradebook: every run and every student's results, in one SQLite file."""

from grader.gradebook.hashing import CacheKey, manual_scores_hash, submission_hash
from grader.gradebook.schema import RunInfo, StoredCheck, StoredGrading
from grader.gradebook.store import DEFAULT_GRADEBOOK, Gradebook, GradebookError

__all__ = [
    "DEFAULT_GRADEBOOK",
    "CacheKey",
    "Gradebook",
    "GradebookError",
    "RunInfo",
    "StoredCheck",
    "StoredGrading",
    "manual_scores_hash",
    "submission_hash",
]
