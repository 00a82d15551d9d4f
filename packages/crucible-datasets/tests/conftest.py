"""Shared fixtures: a local HTTP server (127.0.0.1, free port) serving the bundled files."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import attrs
import pytest

DATA = Path(__file__).resolve().parents[1] / "src" / "crucible" / "datasets" / "data"


@attrs.define
class FileServer:
    """Serves ``files`` (URL path → bytes) with HTTP Range support and scripted faults.

    ``mode``: ``"ok"``; ``"truncate"`` (announce the full length, send half, close);
    ``"truncate_once"`` (truncate the first response only); ``"hang"`` (accept, never answer,
    until the fixture is torn down); ``"corrupt"`` (flip a byte).
    """

    base_url: str
    files: dict[str, bytes]
    mode: str = "ok"
    requests: list[dict[str, str | None]] = attrs.field(factory=list)
    release: threading.Event = attrs.field(factory=threading.Event)


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            server.requests.append({"path": self.path, "range": self.headers.get("Range")})
            if server.mode == "hang":
                server.release.wait(timeout=30)
                return
            body = server.files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            if server.mode == "corrupt":
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            start = 0
            header = self.headers.get("Range")
            if header and header.startswith("bytes="):
                start = int(header.removeprefix("bytes=").split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            chunk = body[start:]
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            truncate = server.mode == "truncate" or (
                server.mode == "truncate_once" and len(server.requests) == 1
            )
            if truncate:
                self.wfile.write(chunk[: len(chunk) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(chunk)

    return Handler


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    files = {
        "/gsm8k/test.jsonl": (DATA / "gsm8k" / "test.jsonl").read_bytes(),
        "/humaneval/data/HumanEval.jsonl.gz": (
            DATA / "humaneval" / "HumanEval.jsonl.gz"
        ).read_bytes(),
        "/truthfulqa/TruthfulQA.csv": (DATA / "truthfulqa" / "TruthfulQA.csv").read_bytes(),
        "/truthfulqa/data/mc_task.json": (DATA / "truthfulqa" / "mc_task.json").read_bytes(),
    }
    for path in (DATA / "mmlu").rglob("*.csv"):
        files["/mmlu/" + path.relative_to(DATA / "mmlu").as_posix()] = path.read_bytes()
    state = FileServer("", files)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
