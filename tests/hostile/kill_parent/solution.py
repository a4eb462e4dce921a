import os
import signal


def run():
    os.kill(os.getppid(), signal.SIGKILL)
    return "parent killed"
