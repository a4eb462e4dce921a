"""Class-level exports read from the gradebook: CSV for an LMS, JUnit XML for CI, and a
class summary in HTML and Markdown."""
