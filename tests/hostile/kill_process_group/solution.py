import os
import signal


def run():
    os.killpg(os.getpgrp(), signal.SIGKILL)
    return "group killed"
