"""Test helpers: a scripted HTTP server on 127.0.0.1 that speaks whatever JSON you script.

Use it to test provider clients, retries and fault handling without a network::

    async with ScriptedServer() as server:
        server.script(Reply({"error": {"message": "slow down"}}, 429, {"Retry-After": "1"}), Reply(body))
        model = get_model("openai:gpt-4o", api_key="test", base_url=server.base_url + "/v1")
        ...
        assert len(server.requests) == 2
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web

__all__ = ["Recorded", "Reply", "ScriptedServer"]


@attrs.define
class Reply:
    """One scripted reply.

    Attributes:
        body: JSON body (ignored when ``raw`` is given).
        status: HTTP status.
        headers: response headers (``Retry-After``, ...).
        raw: exact bytes to send instead of JSON.
        hang_s: wait this long (or until the server closes) before answering: a server hang.
        truncate: announce a longer body than sent, then drop the connection mid-body.
        events: send these as server-sent events (``data: {json}``), ``event_delay_s`` apart,
            followed by ``data: [DONE]`` when ``done`` is true.
    """

    body: Any = None
    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict)
    raw: bytes | None = None
    hang_s: float = 0.0
    truncate: bool = False
    events: list[Any] | None = None
    event_delay_s: float = 0.0
    done: bool = True


@attrs.define
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


class ScriptedServer:
    """Serves scripted replies in order (the last one repeats) and records every request.

    A ``responder`` callable, if given, decides each reply from the request instead of the script.
    """

    def __init__(self, responder: Callable[[Recorded], Reply] | None = None) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Recorded] = []
        self.base_url = ""
        self._responder = responder
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def script(self, *replies: Reply) -> None:
        """Replace the script; the last reply repeats for any further request."""
        self.replies = list(replies)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except json.JSONDecodeError:
            parsed = body.decode("utf-8", "replace")
        recorded = Recorded(request.method, request.path, dict(request.headers), parsed)
        self.requests.append(recorded)
        if self._responder is not None:
            reply = self._responder(recorded)
        elif self.replies:
            reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        else:
            reply = Reply({"error": {"message": "no reply scripted"}}, 500)
        if reply.hang_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), reply.hang_s)
        if reply.events is not None:
            stream = web.StreamResponse(status=reply.status, headers=reply.headers)
            stream.content_type = "text/event-stream"
            await stream.prepare(request)
            for event in reply.events:
                if reply.event_delay_s:
                    await asyncio.sleep(reply.event_delay_s)
                await stream.write(f"data: {json.dumps(event)}\n\n".encode())
            if reply.done:
                await stream.write(b"data: [DONE]\n\n")
            await stream.write_eof()
            return stream
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        if reply.truncate:
            response = web.StreamResponse(status=reply.status, headers=reply.headers)
            response.content_length = len(payload) + 100
            response.content_type = "application/json"
            await response.prepare(request)
            await response.write(payload[: len(payload) // 2])
            if request.transport is not None:
                request.transport.close()
            return response
        return web.Response(
            status=reply.status,
            body=payload,
            headers=reply.headers,
            content_type="application/json",
        )

    async def start(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ScriptedServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
