"""Escape attempts against every sandbox backend available here (bwrap when installed).

Each attempt must be contained (nothing outside the working directory changes, no secret is
read, no connection is made) and reported as a failed sample with its reason.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crucible.core import ValidationError
from crucible.datasets import (
    ExecutionStatus,
    SandboxBackend,
    SandboxLimits,
    available_backends,
    run_code,
)

BACKENDS = [b.value for b in available_backends()]
FAST = SandboxLimits(timeout_s=5, cpu_s=2, memory_mb=512)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_backends_reported() -> None:
    assert BACKENDS[-1] == "process"
    assert run_code("pass").backend == BACKENDS[0]  # auto picks the strongest available


def test_passing_failing_and_erroring_code(backend: str) -> None:
    ok = run_code("assert sum(range(4)) == 6\nprint('hi')", backend=backend, limits=FAST)
    assert ok.status is ExecutionStatus.PASSED and ok.passed
    assert ok.stdout == "hi\n" and ok.backend == backend
    failed = run_code("assert 1 == 2, 'nope'", backend=backend, limits=FAST)
    assert failed.status is ExecutionStatus.FAILED
    assert failed.reason == "AssertionError: nope"
    error = run_code("def f(:\n  pass", backend=backend, limits=FAST)
    assert error.status is ExecutionStatus.ERROR and error.reason.startswith("SyntaxError")
    exited = run_code("import sys; sys.exit(3)", backend=backend, limits=FAST)
    assert exited.status is ExecutionStatus.FAILED and exited.reason == "SystemExit: 3"


def test_write_outside_workdir_is_blocked(backend: str, tmp_path: Path) -> None:
    target = tmp_path / f"escaped-{uuid.uuid4().hex}.txt"
    result = run_code(f"open({str(target)!r}, 'w').write('x')", backend=backend, limits=FAST)
    assert result.status is ExecutionStatus.VIOLATION
    assert "write outside the working directory" in result.reason
    assert not target.exists()


def test_writes_inside_workdir_are_allowed(backend: str) -> None:
    code = "open('f.txt', 'w').write('abc')\nassert open('f.txt').read() == 'abc'"
    assert run_code(code, backend=backend, limits=FAST).passed
    given = run_code(
        "import helper\nassert helper.VALUE == 42",
        backend=backend,
        limits=FAST,
        files={"helper.py": "VALUE = 42\n"},
    )
    assert given.passed, given.reason
    temp = run_code(
        "import tempfile\nwith tempfile.TemporaryDirectory() as d:\n    open(d + '/x', 'w').write('1')",
        backend=backend,
        limits=FAST,
    )
    assert temp.passed, temp.reason
    read = run_code(
        "assert open('data.txt').read() == 'x'",
        backend=backend,
        limits=FAST,
        files={"data.txt": "x"},
    )
    assert read.passed


@pytest.fixture
def home_secret() -> Iterator[Path]:
    secret = Path.home() / f".crucible-sandbox-secret-{uuid.uuid4().hex}"
    secret.write_text("top secret", encoding="utf-8")
    try:
        yield secret
    finally:
        secret.unlink()


def test_reading_home_is_blocked(backend: str, home_secret: Path) -> None:
    result = run_code(f"print(open({str(home_secret)!r}).read())", backend=backend, limits=FAST)
    assert result.status is ExecutionStatus.VIOLATION
    assert "read outside the working directory" in result.reason
    assert "top secret" not in result.stdout
    code = f"import os; print(os.listdir({str(home_secret.parent)!r}))"
    listing = run_code(code, backend=backend, limits=FAST)
    assert listing.status is ExecutionStatus.VIOLATION
    assert home_secret.name not in listing.stdout


def test_socket_is_blocked(backend: str) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.05)
    port = server.getsockname()[1]
    connected, done = threading.Event(), threading.Event()

    def accept() -> None:
        # Listen for the whole run: a connection at any point would be an escape.
        while not done.is_set():
            try:
                server.accept()
                connected.set()
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
    try:
        result = run_code(code, backend=backend, limits=FAST)
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()
    assert result.status is ExecutionStatus.VIOLATION
    assert "socket" in result.reason
    assert not connected.is_set()


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import os\nwhile True:\n    os.fork()", "os.fork"),
        ("import os\nos.system('touch /tmp/x')", "os.system"),
        ("import subprocess\nsubprocess.run(['true'])", "subprocess"),
        ("import os\nos.execv('/bin/true', ['true'])", "os.exec"),
        ("import ctypes", "ctypes"),
        ("import os\nos.symlink('/etc/passwd', 'p')", "os.symlink"),
        ("import os\nos.kill(1, 9)", "os.kill"),
        ("open('evil.so', 'wb').write(b'ELF')", "native library"),
        (
            "open('evil.txt', 'w').write('x')\nimport os\nos.rename('evil.txt', 'evil.so')",
            "native library",
        ),
    ],
)
def test_process_creation_is_blocked(backend: str, code: str, reason: str) -> None:
    result = run_code(code, backend=backend, limits=FAST)
    assert result.status is ExecutionStatus.VIOLATION
    assert reason in result.reason


def test_caught_violation_still_fails(backend: str) -> None:
    code = "try:\n    open('/etc/hostname').read()\nexcept PermissionError:\n    pass\n"
    result = run_code(code, backend=backend, limits=FAST)
    assert result.status is ExecutionStatus.VIOLATION
    assert result.violations and "/etc/hostname" in result.violations[0]


def test_infinite_loop_hits_cpu_limit(backend: str) -> None:
    result = run_code(
        "while True:\n    pass", backend=backend, limits=SandboxLimits(timeout_s=10, cpu_s=1)
    )
    assert result.status is ExecutionStatus.TIMEOUT
    assert "CPU-time limit of 1 s" in result.reason
    assert result.duration_s < 8


def test_sleep_hits_wall_clock_limit(backend: str) -> None:
    result = run_code(
        "import time\ntime.sleep(60)", backend=backend, limits=SandboxLimits(timeout_s=1)
    )
    assert result.status is ExecutionStatus.TIMEOUT
    assert "wall-clock limit of 1 s" in result.reason
    assert result.duration_s < 5


def test_huge_allocation_hits_memory_limit(backend: str) -> None:
    result = run_code("x = bytearray(8 * 1024 ** 3)", backend=backend, limits=FAST)
    assert result.status is ExecutionStatus.MEMORY
    assert "memory limit of 512 MB" in result.reason


def test_file_size_limit(backend: str) -> None:
    code = (
        "with open('big', 'wb') as f:\n    for _ in range(100):\n        f.write(b'x' * 1_000_000)"
    )
    result = run_code(code, backend=backend, limits=SandboxLimits(file_size_mb=1))
    assert not result.passed
    assert "File too large" in result.reason or "file-size limit" in result.reason


def test_environment_is_empty(backend: str) -> None:
    os.environ["CRUCIBLE_SANDBOX_LEAK"] = "leaked"
    try:
        result = run_code("import os\nprint(sorted(os.environ))", backend=backend, limits=FAST)
    finally:
        del os.environ["CRUCIBLE_SANDBOX_LEAK"]
    assert result.passed
    assert "CRUCIBLE_SANDBOX_LEAK" not in result.stdout


def test_exit_before_result_is_not_a_pass(backend: str) -> None:
    result = run_code("import os\nos._exit(0)", backend=backend, limits=FAST)
    assert result.status is ExecutionStatus.CRASHED
    assert "before reporting a result" in result.reason


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="`backend` must be one of auto, bwrap, process"):
        run_code("pass", backend="docker")
    with pytest.raises(ValidationError, match="SandboxLimits `timeout_s` must be > 0"):
        SandboxLimits(timeout_s=0)
    with pytest.raises(ValidationError, match="escapes the working directory"):
        run_code("pass", files={"../x.py": "1"})
    if SandboxBackend.BWRAP not in available_backends():
        with pytest.raises(
            ValidationError, match="bubblewrap is not installed or cannot create namespaces"
        ):
            run_code("pass", backend="bwrap")
