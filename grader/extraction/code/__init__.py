"""Student code, read statically: find files, keep definitions, drop top-level work, flag tampering.

Nothing here runs student code; the sandbox child executes the kept definitions later.
"""

from grader.extraction.code.definitions import CodeUnit, FunctionSig, Skipped, extract_unit
from grader.extraction.code.files import CodeFile, FileKind, find_code_files, read_code_file
from grader.extraction.code.submission import CodeSubmission, read_submission_code
from grader.extraction.code.tamper import TamperFinding, TamperKind, scan_tampering

__all__ = [
    "CodeFile",
    "CodeSubmission",
    "CodeUnit",
    "FileKind",
    "FunctionSig",
    "Skipped",
    "TamperFinding",
    "TamperKind",
    "extract_unit",
    "find_code_files",
    "read_code_file",
    "read_submission_code",
    "scan_tampering",
]
