"""Running untrusted Python in a separate, limited process.

Two backends, chosen by :class:`SandboxBackend`:

``bwrap``
    bubblewrap (when installed): new user, PID, network, IPC and UTS namespaces (no network
    at all), a root filesystem holding only ``/usr`` and the Python installation read-only,
    an empty ``/tmp``, ``/root`` and ``/home``, and the working directory as the only writable
    path. The process guard below runs inside it as well.
``process``
    a plain child process with an empty environment, ``python -I`` (no user site, no
    ``PYTHON*`` variables), a fresh temporary working directory, resource limits and an
    audit hook (PEP 578) installed before the untrusted code runs. The hook refuses sockets,
    process creation (``fork``, ``subprocess``, ``os.system``, ``exec*``, ``posix_spawn``),
    signals, ``ctypes``/``mmap``, and any file access outside the working directory except
    reading the Python installation. Audit hooks are a guard against accidents and casual
    escapes, not a security boundary against code crafted to defeat them: use ``bwrap``
    for code you have reason to distrust.

Both apply ``RLIMIT_CPU``, ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE``, ``RLIMIT_NPROC`` and a
wall-clock timeout (the whole process group is killed), and report which backend ran.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from crucible.core import ValidationError

__all__ = [
    "ExecutionResult",
    "ExecutionStatus",
    "SandboxBackend",
    "SandboxLimits",
    "available_backends",
    "run_code",
]

_OUTPUT_LIMIT = 16_384


class SandboxBackend(StrEnum):
    """How code is isolated (``auto``: ``bwrap`` when installed, else ``process``)."""

    AUTO = "auto"
    BWRAP = "bwrap"
    PROCESS = "process"


class ExecutionStatus(StrEnum):
    """How a run ended."""

    PASSED = "passed"  # ran to the end without an exception
    FAILED = "failed"  # an assertion failed (or sys.exit with a non-zero code)
    ERROR = "error"  # another exception (syntax error, NameError, ...)
    TIMEOUT = "timeout"  # wall-clock or CPU-time limit
    MEMORY = "memory"  # the memory limit (MemoryError or killed)
    VIOLATION = "violation"  # tried something the sandbox denies (network, files, processes)
    CRASHED = "crashed"  # died without reporting (signal, file-size limit, os._exit)


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValidationError(f"SandboxLimits `{attribute.name}` must be > 0, got {value!r}")


@attrs.frozen(slots=True)
class SandboxLimits:
    """Resource limits of one run.

    Attributes:
        timeout_s: wall-clock limit; the process group is killed after it.
        cpu_s: CPU-time limit (``RLIMIT_CPU``), whole seconds.
        memory_mb: address-space limit (``RLIMIT_AS``).
        file_size_mb: largest file the code may write (``RLIMIT_FSIZE``); also caps captured
            stdout/stderr.
        max_processes: ``RLIMIT_NPROC`` (counted per user by the kernel; not enforced for
            root, which is why process creation is also refused by the guard).
    """

    timeout_s: float = attrs.field(default=10.0, validator=_positive)
    cpu_s: int = attrs.field(default=10, validator=_positive)
    memory_mb: int = attrs.field(default=1024, validator=_positive)
    file_size_mb: int = attrs.field(default=16, validator=_positive)
    max_processes: int = attrs.field(default=1, validator=_positive)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(slots=True)
class ExecutionResult:
    """The outcome of one sandboxed run.

    Attributes:
        status: see :class:`ExecutionStatus`.
        reason: a one-line human explanation ("AssertionError: ...", "blocked: socket...").
        backend: the backend that ran (``"bwrap"`` or ``"process"``).
        duration_s: wall time.
        stdout, stderr: the first 16 KiB of each stream.
        violations: what the guard refused, in order.
        returncode: the process's exit status (negative: killed by that signal).
    """

    status: ExecutionStatus
    reason: str
    backend: str
    duration_s: float
    stdout: str = ""
    stderr: str = ""
    violations: tuple[str, ...] = ()
    returncode: int | None = None

    @property
    def passed(self) -> bool:
        return self.status is ExecutionStatus.PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "backend": self.backend,
            "duration_s": self.duration_s,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "violations": list(self.violations),
            "returncode": self.returncode,
        }

    def __str__(self) -> str:
        return f"{self.status.value} [{self.backend}, {self.duration_s:.2f} s] {self.reason}"


def available_backends() -> list[SandboxBackend]:
    """The backends usable on this machine, strongest first.

    ``bwrap`` is listed only when it is installed *and* can create its namespaces here (a
    container may forbid unprivileged user namespaces); this is probed once per process.
    """
    found = [SandboxBackend.BWRAP] if _bwrap_works() else []
    return [*found, SandboxBackend.PROCESS]


@functools.cache
def _bwrap_works() -> bool:
    if not shutil.which("bwrap"):
        return False
    with tempfile.TemporaryDirectory(prefix="crucible-probe-") as workdir:
        command = _bwrap_command(workdir, _read_roots(), [sys.executable, "-I", "-c", "pass"])
        try:
            probe = subprocess.run(command, capture_output=True, env={}, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return probe.returncode == 0


def _resolve(backend: SandboxBackend | str) -> SandboxBackend:
    try:
        chosen = SandboxBackend(backend)
    except ValueError:
        raise ValidationError(
            f"`backend` must be one of {', '.join(b.value for b in SandboxBackend)}, "
            f"got {backend!r}"
        ) from None
    if chosen is SandboxBackend.AUTO:
        return available_backends()[0]
    if chosen is SandboxBackend.BWRAP and not _bwrap_works():
        raise ValidationError(
            "`backend`='bwrap' but bubblewrap is not installed or cannot create namespaces "
            "here (apt-get install bubblewrap; containers may need unprivileged user "
            "namespaces); use backend='auto' to fall back to the process guard"
        )
    return chosen


def _read_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots |= {p for p in sys.path if p and os.path.isdir(p) and os.path.isabs(p)}
    roots.add(os.path.dirname(os.path.realpath(sys.executable)))
    home = os.path.realpath(os.path.expanduser("~"))
    # Never open up "/" or a directory holding the home directory (a stray sys.path entry).
    return sorted(
        real
        for real in {os.path.realpath(r) for r in roots}
        if real != os.sep and not (home == real or home.startswith(real + os.sep))
    )


def _runner_source() -> str:
    return resources.files("crucible.datasets").joinpath("_sandbox_runner.py").read_text("utf-8")


def _bwrap_command(workdir: str, read_roots: list[str], python: list[str]) -> list[str]:
    bwrap = shutil.which("bwrap")
    assert bwrap is not None
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(link):
            cmd += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            cmd += ["--ro-bind", link, link]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for root in read_roots:
        if not root.startswith("/usr/"):
            cmd += ["--ro-bind", root, root]
    cmd += ["--bind", workdir, workdir, "--chdir", workdir]
    return cmd + python


def run_code(
    code: str,
    *,
    limits: SandboxLimits | None = None,
    backend: SandboxBackend | str = SandboxBackend.AUTO,
    files: dict[str, str] | None = None,
) -> ExecutionResult:
    """Run Python source in a fresh sandboxed process and report how it ended.

    Args:
        code: the program (for HumanEval: prompt + completion + tests + ``check(...)``).
        limits: resource limits (default :class:`SandboxLimits`).
        backend: ``"auto"``, ``"bwrap"`` or ``"process"``.
        files: extra files to create in the working directory (name → text); the working
            directory is first on ``sys.path``, so ``.py`` files are importable.

    Returns:
        An :class:`ExecutionResult`; failures of the code are results, not exceptions.

    Example:
        >>> run_code("assert 1 + 1 == 2").status.value
        'passed'
    """
    if not isinstance(code, str):
        raise ValidationError(f"`code` must be a string, got {type(code).__name__}")
    limits = limits or SandboxLimits()
    chosen = _resolve(backend)
    read_roots = _read_roots()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crucible-run-") as parent:
        workdir = os.path.join(parent, "work")
        os.mkdir(workdir, 0o700)
        for name, text in (files or {}).items():
            target = Path(workdir, name).resolve()
            if not target.is_relative_to(Path(workdir).resolve()):
                raise ValidationError(f"`files` name {name!r} escapes the working directory")
            target.write_text(text, encoding="utf-8")
        out_path, err_path = os.path.join(parent, "stdout"), os.path.join(parent, "stderr")
        read_fd, write_fd = os.pipe()
        config = {
            "workdir": workdir,
            "result_fd": write_fd,
            "cpu_s": int(limits.cpu_s),
            "memory_bytes": int(limits.memory_mb) * 1024 * 1024,
            "file_size_bytes": int(limits.file_size_mb) * 1024 * 1024,
            "max_processes": int(limits.max_processes),
            "read_roots": read_roots,
            "guard": True,
        }
        python = [sys.executable, "-I", "-c", _runner_source(), json.dumps(config)]
        command = (
            _bwrap_command(workdir, read_roots, python)
            if chosen is SandboxBackend.BWRAP
            else python
        )
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=err,
                    cwd=workdir,
                    env={},
                    pass_fds=(write_fd,),
                    start_new_session=True,
                )
            finally:
                os.close(write_fd)
            try:
                assert proc.stdin is not None
                try:
                    proc.stdin.write(code.encode("utf-8", "surrogatepass"))
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
                proc.wait(timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(proc)
        with os.fdopen(read_fd, "rb") as pipe:
            raw = pipe.read(65_536)
        duration = time.monotonic() - start
        stdout, stderr = _head(out_path), _head(err_path)
    return _classify(raw, proc.returncode, timed_out, limits, chosen, duration, stdout, stderr)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _head(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read(_OUTPUT_LIMIT).decode("utf-8", "replace")


def _classify(
    raw: bytes,
    returncode: int,
    timed_out: bool,
    limits: SandboxLimits,
    backend: SandboxBackend,
    duration: float,
    stdout: str,
    stderr: str,
) -> ExecutionResult:
    def result(
        status: ExecutionStatus, reason: str, violations: tuple[str, ...] = ()
    ) -> ExecutionResult:
        return ExecutionResult(
            status, reason, backend.value, duration, stdout, stderr, violations, returncode
        )

    report: dict[str, Any] | None = None
    if raw:
        try:
            report = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            report = None
    if report is not None and not timed_out:
        status = ExecutionStatus(report["status"])
        violations = tuple(report.get("violations", ()))
        if status is ExecutionStatus.PASSED:
            return result(status, "ran to completion")
        if status is ExecutionStatus.MEMORY:
            return result(status, f"memory limit of {limits.memory_mb} MB exceeded (MemoryError)")
        if status is ExecutionStatus.VIOLATION:
            return result(
                status,
                f"blocked by the sandbox: {violations[0] if violations else report['message']}",
                violations,
            )
        message = report["message"]
        return result(
            status, f"{report['error_type']}: {message}" if message else report["error_type"]
        )
    if timed_out:
        return result(ExecutionStatus.TIMEOUT, f"wall-clock limit of {limits.timeout_s} s exceeded")
    # bwrap reports a child killed by signal N as exit status 128 + N.
    signum = -returncode if returncode < 0 else None
    if backend is SandboxBackend.BWRAP and 128 < returncode < 128 + 65:
        signum = returncode - 128
    if signum in (signal.SIGXCPU, signal.SIGKILL) and duration >= limits.cpu_s * 0.5:
        return result(ExecutionStatus.TIMEOUT, f"CPU-time limit of {limits.cpu_s} s exceeded")
    if signum == signal.SIGXFSZ:
        return result(
            ExecutionStatus.CRASHED, f"file-size limit of {limits.file_size_mb} MB exceeded"
        )
    if signum is not None:
        name = signal.Signals(signum).name
        if "MemoryError" in stderr or signum == signal.SIGKILL:
            return result(
                ExecutionStatus.MEMORY, f"killed by {name} (memory limit of {limits.memory_mb} MB)"
            )
        return result(ExecutionStatus.CRASHED, f"killed by {name}")
    tail = stderr.strip().splitlines()[-1:] or [""]
    return result(
        ExecutionStatus.CRASHED,
        f"exited with code {returncode} before reporting a result {tail[0]}".rstrip(),
    )
