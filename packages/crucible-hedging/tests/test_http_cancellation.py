"""Cancelling a losing attempt really closes its HTTP request (seen from the server side)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from crucible.core import Pricing, get_model
from crucible.core.testing import Recorded, Reply, ScriptedServer
from crucible.hedging import AttemptStatus, HedgedModel, fixed

OK = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "fast",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
}


class DisconnectWatchingServer(ScriptedServer):
    """A ScriptedServer whose handlers are cancelled when the client drops the connection.

    aiohttp only cancels a handler on disconnect when the server enables handler cancellation,
    so a cancelled handler proves the server saw the connection closed.
    """

    def __init__(self) -> None:
        super().__init__(self.reply)
        self.hanging = asyncio.Event()
        self.disconnected: list[str] = []
        self.saw_disconnect = asyncio.Event()

    def reply(self, request: Recorded) -> Reply:
        if request.json["model"] == "slow":
            self.hanging.set()
            return Reply(OK, hang_s=30)
        return Reply(OK)

    async def start(self) -> DisconnectWatchingServer:
        await super().start()
        assert self._runner is not None and self._runner.server is not None
        self._runner.server.handler_cancellation = True
        return self

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await super()._handle(request)
        except asyncio.CancelledError:
            self.disconnected.append(request.path)
            self.saw_disconnect.set()
            raise


async def test_losing_http_request_is_closed() -> None:
    async with DisconnectWatchingServer() as server:
        base = server.base_url + "/v1"
        free = {"input": 0.0, "output": 0.0}
        pricing = Pricing({"openai-compatible:slow": free, "openai-compatible:fast": free})
        slow = get_model(
            "openai-compatible:slow", base_url=base, max_retries=0, timeout_s=20, pricing=pricing
        )
        fast = get_model(
            "openai-compatible:fast", base_url=base, max_retries=0, timeout_s=20, pricing=pricing
        )

        async def fast_after_slow_is_in_flight() -> Any:
            await asyncio.wait_for(server.hanging.wait(), 5)
            return await fast.generate("2+2?")

        class Gate:
            async def generate(self, prompt: Any, **params: Any) -> Any:
                return await fast_after_slow_is_in_flight()

        model = HedgedModel(slow, [Gate()], policy=fixed(0))
        completion = await model.generate("2+2?")
        result = completion.raw
        assert completion.text == "4"
        assert [a.status for a in result.attempts] == [
            AttemptStatus.CANCELLED,
            AttemptStatus.WON,
        ]
        await asyncio.wait_for(server.saw_disconnect.wait(), 5)
        assert server.disconnected == ["/v1/chat/completions"]
        assert [r.json["model"] for r in server.requests] == ["slow", "fast"]
        for m in (slow, fast):
            await m.aclose()  # type: ignore[attr-defined]
