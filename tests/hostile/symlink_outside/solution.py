import os


def run():
    # The grader copies the submission; links leaving it must not come along.
    found = {}
    for name in ("passwd_link", "reference_link"):
        try:
            with open(name, "rb") as stream:
                found[name] = stream.read(100).decode("latin-1")
        except OSError as exc:
            found[name] = type(exc).__name__
    found["listing"] = sorted(os.listdir("."))
    return found
