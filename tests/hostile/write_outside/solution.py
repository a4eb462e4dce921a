def run(paths):
    done = {}
    for path in paths:
        try:
            with open(path, "w") as stream:
                stream.write("overwritten by a student")
            done[path] = "written"
        except OSError as exc:
            done[path] = type(exc).__name__
    return done
