"""Isolation layers: detection in the parent, application in the child.

Only the standard library is imported at module level (pyseccomp lazily), because the child
imports this module before running student code.

Layers, outermost first:
- bubblewrap: private mount, PID, network, IPC and UTS namespaces; read-only system; only the
  scratch copy, the sandbox package and the readable data bound. Run as real root WITHOUT a
  user namespace (a user namespace would map the sandbox user to real root), keeping only
  CAP_SETUID/CAP_SETGID so the child can drop to the sandbox uid.
- uid: the worker drops to an unprivileged uid (one per concurrent slot), so RLIMIT_NPROC
  counts, root-owned files stay protected and every leftover process can be found by uid.
- rlimits: address space, CPU time, file size, open files, processes, no core files.
- landlock: file access limited to the system, the scratch copy and the readable data; TCP
  bind/connect denied; signals to processes outside the sandbox denied (ABI >= 6).
- seccomp: socket() only for AF_UNIX, no ptrace, no new namespaces, no io_uring, no bpf.
- subreaper: the supervisor adopts double-forked orphans and kills them at the end.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Layer(Enum):
    RLIMITS = "rlimits"
    UID = "uid"
    BUBBLEWRAP = "bubblewrap"
    LANDLOCK = "landlock"
    SECCOMP = "seccomp"
    SUBREAPER = "subreaper"


@dataclass(frozen=True)
class LayerStatus:
    layer: Layer
    usable: bool
    why_not: str


# ---------------------------------------------------------------- detection (parent side)

BWRAP_PROBE_TIMEOUT = 10.0


def python_prefix_open_to_others() -> bool:
    """Whether an unprivileged uid can run this interpreter without bubblewrap re-mounting it."""
    for path in (Path(sys.executable).resolve(), Path(sys.base_prefix).resolve()):
        for part in [path, *path.parents]:
            try:
                mode = part.stat().st_mode
            except OSError:
                return False
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                return False
    return True


def _probe_bubblewrap() -> str:
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap is not installed (Debian package bubblewrap)"
    if os.geteuid() != 0:
        return "bubblewrap is run without a user namespace, which needs root"
    command = [
        exe,
        "--ro-bind",
        "/",
        "/",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--",
        "/bin/true",
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=BWRAP_PROBE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip() or f"status {done.returncode}"
        return f"namespaces are refused on this machine: {reason}"
    return ""


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), 1)
    return max(int(version), 0)


def _probe_seccomp() -> str:
    try:
        import pyseccomp

        pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    except Exception as exc:  # noqa: BLE001 - any failure to load libseccomp means "absent"
        return f"pyseccomp/libseccomp is not usable: {exc}"
    return ""


@functools.cache
def detect() -> tuple[LayerStatus, ...]:
    """Which layers work on this machine; probed once per process."""
    bwrap_why = _probe_bubblewrap()
    if os.geteuid() != 0:
        uid_why = "the grader does not run as root, so it cannot switch to a sandbox uid"
    elif bwrap_why and not python_prefix_open_to_others():
        uid_why = (
            f"without bubblewrap an unprivileged uid cannot reach the Python installation "
            f"under {Path(sys.base_prefix).resolve()} (a parent folder is not searchable)"
        )
    else:
        uid_why = ""
    abi = landlock_abi()
    landlock_why = "" if abi >= 1 else "the kernel does not offer Landlock"
    seccomp_why = _probe_seccomp()
    return (
        LayerStatus(Layer.RLIMITS, True, ""),
        LayerStatus(Layer.UID, not uid_why, uid_why),
        LayerStatus(Layer.BUBBLEWRAP, not bwrap_why, bwrap_why),
        LayerStatus(Layer.LANDLOCK, not landlock_why, landlock_why),
        LayerStatus(Layer.SECCOMP, not seccomp_why, seccomp_why),
        LayerStatus(
            Layer.SUBREAPER,
            sys.platform.startswith("linux"),
            "" if sys.platform.startswith("linux") else "PR_SET_CHILD_SUBREAPER needs Linux",
        ),
    )


def usable(layer: Layer) -> bool:
    return any(s.layer is layer and s.usable for s in detect())


# ---------------------------------------------------------------- application (child side)

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl({option}) failed: {os.strerror(code)}")


def set_subreaper() -> None:
    prctl(_PR_SET_CHILD_SUBREAPER, 1)


def set_parent_death_signal(signum: int) -> None:
    prctl(_PR_SET_PDEATHSIG, signum)


def forbid_ptrace_of_self() -> None:
    prctl(_PR_SET_DUMPABLE, 0)


@dataclass(frozen=True)
class RlimitValues:
    memory_bytes: int
    cpu_seconds: int
    file_bytes: int
    open_files: int
    processes: int


def apply_rlimits(limits: RlimitValues, with_nproc: bool) -> None:
    pairs = [
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if with_nproc:
        pairs.append((resource.RLIMIT_NPROC, limits.processes))
    for which, value in pairs:
        resource.setrlimit(which, (value, value))


def drop_uid(uid: int) -> None:
    """Become uid/gid `uid` for good (real, effective and saved), no supplementary groups."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid):
        raise OSError(errno.EPERM, "the uid did not change")
    prctl(_PR_SET_NO_NEW_PRIVS, 1)


# Landlock (linux/landlock.h); the syscall numbers are the same on every architecture.
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_RULE_PATH_BENEATH = 1
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_ALL_ABI1 = (1 << 13) - 1
_FS_REFER = 1 << 13
_FS_TRUNCATE = 1 << 14
_FS_IOCTL_DEV = 1 << 15
_NET_ALL = (1 << 0) | (1 << 1)  # bind and connect TCP
_SCOPE_ALL = (1 << 0) | (1 << 1)  # abstract unix sockets and signals
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _handled_fs(abi: int) -> int:
    rights = _FS_ALL_ABI1
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def apply_landlock(read_paths: list[str], write_paths: list[str]) -> int:
    """Restrict this process (and its children) to the given paths; returns the ABI used.

    Paths that do not exist are skipped. Raises OSError when Landlock cannot be enforced.
    """
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock is not available")
    libc = ctypes.CDLL(None, use_errno=True)
    handled = _handled_fs(abi)
    attr = _RulesetAttr(handled, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = libc.syscall(
        _SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0
    )
    if ruleset < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"landlock_create_ruleset: {os.strerror(code)}")
    try:
        read_rights = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        for path, rights in [(p, read_rights) for p in read_paths] + [
            (p, handled) for p in write_paths
        ]:
            _add_path_rule(libc, ruleset, path, rights & handled)
        prctl(_PR_SET_NO_NEW_PRIVS, 1)
        if libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")
    finally:
        os.close(ruleset)
    return abi


def _add_path_rule(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_ONLY
        rule = _PathBeneathAttr(rights, fd)
        if libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0):
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_add_rule({path}): {os.strerror(code)}")
    finally:
        os.close(fd)


_CLONE_NEW_NAMESPACES = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
    | 0x00000080  # CLONE_NEWTIME
)


def preload_seccomp() -> None:
    import pyseccomp  # noqa: F401


# SysV IPC and POSIX message queues live in the IPC namespace, which the tasks of one fork
# server share: denied, so two concurrent submissions cannot pass data that way.
_SHARED_IPC_CALLS = (
    "shmget",
    "shmat",
    "shmctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
)


def apply_seccomp() -> None:
    """Deny network sockets and kernel interfaces a grading task never needs."""
    import pyseccomp as sc

    denied = sc.ERRNO(errno.EACCES)
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    # Sockets: AF_UNIX stays (torch DataLoader workers and multiprocessing use it).
    flt.add_rule(denied, "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    flt.add_rule(denied, "socketpair", sc.Arg(0, sc.NE, socket.AF_UNIX))
    # clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libc fall back to clone.
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for name in (
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "unshare",
        "setns",
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "keyctl",
        "add_key",
        "request_key",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "kexec_load",
        "init_module",
        "finit_module",
        "delete_module",
        "acct",
        "swapon",
        "swapoff",
        "reboot",
        "syslog",
        *_SHARED_IPC_CALLS,
    ):
        try:
            flt.add_rule(sc.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            continue  # not a syscall on this architecture
    # clone with any CLONE_NEW* flag: one rule per flag, since a masked compare tests equality.
    for flag in _flag_bits(_CLONE_NEW_NAMESPACES):
        flt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    flt.load()


def _flag_bits(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask >> i & 1]
