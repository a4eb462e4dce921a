import os
import time


def run(outside_path):
    # Classic daemon: fork, setsid, fork again, let the middle process exit.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.0)
            for path in (outside_path, "/tmp/daemon-was-here"):
                try:
                    with open(path, "w") as stream:
                        stream.write("the daemon survived")
                except OSError:
                    pass
            os._exit(0)
        os._exit(0)
    return "detached"
