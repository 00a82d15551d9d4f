"""The program run inside the sandbox process (standard library only, run with ``python -I -c``).

It reads the untrusted code from stdin, applies resource limits, installs an audit hook
(PEP 578) that refuses network access, process creation, native-code loading and file access
outside the working directory, runs the code, and writes one JSON result to file descriptor
``result_fd``. This module is never imported by crucible itself: its source is passed to the
child interpreter.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import resource
import sys
import tempfile
from typing import Any

_BLOCKED_EVENTS = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.spawn",
    "os.kill",
    "os.killpg",
    "os.putenv",
    "os.unsetenv",
    "os.symlink",
    "os.link",
    "os.chroot",
    "os.setxattr",
    "os.chown",
    "ctypes.",
    "_ctypes.",
    "mmap.",
    "pty.",
    "resource.setrlimit",
    "resource.prlimit",
    "sys.setprofile",
    "sys.settrace",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "poplib.",
    "imaplib.",
    "nntplib.",
    "telnetlib.",
    "webbrowser.",
    "sqlite3.",
    "winreg.",
)
_BLOCKED_MODULES = ("_ctypes", "ctypes", "_posixsubprocess", "_socket", "socket", "multiprocessing")
_PATH_WRITE_EVENTS = (
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.truncate",
    "os.chmod",
    "os.utime",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.move",
)
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")
_PATH_READ_EVENTS = ("os.listdir", "os.scandir", "os.chdir", "glob.glob", "os.walk")


class SandboxViolation(PermissionError):
    """Raised by the audit hook when the code attempts something the sandbox denies."""


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root + os.sep) for root in roots)


def _install_guard(workdir: str, read_roots: tuple[str, ...], violations: list[str]) -> None:
    write_roots = (workdir,)
    readable = (workdir, *read_roots)
    realpath = os.path.realpath
    fspath = os.fspath

    def deny(reason: str) -> None:
        violations.append(reason)
        raise SandboxViolation("sandbox: " + reason)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode = args[0], args[1]
            if isinstance(path, int) or path is None:
                return
            path = fspath(path)
            if isinstance(path, bytes):
                path = path.decode("utf-8", "surrogateescape")
            writing = mode is not None and any(c in str(mode) for c in "wax+")
            if isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                writing = True
            if path in ("/dev/null", "/dev/urandom") and not writing:
                return
            if writing and not _inside(path, write_roots):
                deny(f"write outside the working directory: {realpath(path)}")
            if writing and path.endswith(_NATIVE_SUFFIXES):
                # A native extension written here and imported would run outside the hook.
                deny(f"writing a native library: {realpath(path)}")
            if not _inside(path, readable):
                deny(f"read outside the working directory: {realpath(path)}")
            return
        if event == "import":
            if args[0] in _BLOCKED_MODULES or str(args[0]).startswith("ctypes."):
                deny(f"import of {args[0]}")
            return
        if event.startswith(_BLOCKED_EVENTS):
            deny(f"{event} is not allowed")
        if event in _PATH_WRITE_EVENTS:
            for arg in args:
                if isinstance(arg, str | bytes | os.PathLike) and not _inside(
                    os.fsdecode(arg), write_roots
                ):
                    deny(f"{event} outside the working directory: {arg!r}")
                if isinstance(arg, str | bytes | os.PathLike) and os.fsdecode(arg).endswith(
                    _NATIVE_SUFFIXES
                ):
                    deny(f"{event} of a native library: {arg!r}")
        if event in _PATH_READ_EVENTS:
            target = args[0] if args else "."
            if isinstance(target, int):
                return
            if not _inside(os.fsdecode(target) if target is not None else ".", readable):
                deny(f"{event} outside the working directory: {target!r}")

    sys.addaudithook(hook)


def main() -> None:
    config = json.loads(sys.argv[1])
    code = sys.stdin.read()
    result = os.fdopen(config["result_fd"], "w", encoding="utf-8")
    workdir = os.path.realpath(config["workdir"])
    os.chdir(workdir)
    sys.path.insert(0, workdir)  # files given to run_code(files=...) are importable
    tempfile.tempdir = workdir  # tempfile works without TMPDIR (the environment is empty)
    limits = {
        resource.RLIMIT_CPU: (config["cpu_s"], config["cpu_s"] + 1),
        resource.RLIMIT_AS: (config["memory_bytes"],) * 2,
        resource.RLIMIT_FSIZE: (config["file_size_bytes"],) * 2,
        resource.RLIMIT_NPROC: (config["max_processes"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    for kind, values in limits.items():
        resource.setrlimit(kind, values)
    violations: list[str] = []
    read_roots = tuple(os.path.realpath(p) for p in config["read_roots"])
    if config["guard"]:
        _install_guard(workdir, read_roots, violations)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    outcome: dict[str, Any] = {"status": "passed", "error_type": None, "message": ""}
    try:
        exec(compile(code, "<candidate>", "exec"), namespace)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            outcome = {"status": "failed", "error_type": "SystemExit", "message": str(exc.code)}
    except MemoryError:
        outcome = {"status": "memory", "error_type": "MemoryError", "message": ""}
    except BaseException as exc:
        status = "failed" if isinstance(exc, AssertionError) else "error"
        if isinstance(exc, SandboxViolation):
            status = "violation"
        outcome = {"status": status, "error_type": type(exc).__name__, "message": str(exc)[:2000]}
    namespace.clear()
    if violations:
        outcome["status"] = "violation"
        outcome["message"] = outcome["message"] or violations[0]
    outcome["violations"] = violations[:20]
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # the code may have closed or replaced it
            stream.flush()
    result.write(json.dumps(outcome))
    result.flush()
    os._exit(0)


if __name__ == "__main__":  # run by `python -I -c <this source>`, never on import
    main()
