"""Write-up reading: Markdown or LaTeX files into typed answers with their sources."""

from grader.extraction.writeup.reader import WriteupReading, read_writeup

__all__ = ["WriteupReading", "read_writeup"]
