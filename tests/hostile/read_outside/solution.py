def run(paths):
    found = {}
    for path in paths:
        try:
            with open(path, "rb") as stream:
                found[path] = len(stream.read())
        except OSError as exc:
            found[path] = type(exc).__name__
    return found
