import ctypes
import os


def run():
    attempts = {}
    for name, action in (
        ("setuid0", lambda: os.setuid(0)),
        ("unshare_user", lambda: _unshare(0x10000000)),
        ("ptrace_parent", lambda: _ptrace_attach(os.getppid())),
        ("read_parent_environ", lambda: open(f"/proc/{os.getppid()}/environ").read()),
    ):
        try:
            action()
            attempts[name] = "succeeded"
        except OSError as exc:
            attempts[name] = type(exc).__name__
    return attempts


def _unshare(flags):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), "unshare failed")


def _ptrace_attach(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, pid, None, None) != 0:
        raise OSError(ctypes.get_errno(), "ptrace failed")
