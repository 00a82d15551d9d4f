"""A local HTTP server that speaks the Tinker SDK's wire format, backed by the local backend.

It serves the calls :class:`crucible.lora._tinker.TinkerBackend` makes: client config, session
creation and heartbeats, model creation, forward / forward_backward (protobuf requests and
responses, decoded and encoded with the SDK's own ``tinker_public_pb2`` schema), optim_step,
save_weights, load_weights (through create_model from a state), save_weights_for_sampler,
sampling sessions and asample. Every call returns a future id; ``retrieve_future`` answers with
the result, so the SDK's real polling path runs. Training and sampling are done by a
:class:`LocalBackend` on the shipped tiny model, so results can be compared exactly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from typing import Any

import numpy as np
from aiohttp import web

from crucible.lora import AdamParams, Datum, LocalBackend, LoraConfig, SamplingParams
from crucible.lora._checkpoint import CheckpointKind, read_checkpoint
from crucible.lora._sampler import LocalSampler, load_sampler

PROTO = "application/x-protobuf"


class TinkerWireServer:
    """Tinker's HTTP API on 127.0.0.1 over :class:`LocalBackend` instances."""

    def __init__(self, tmp_dir: str) -> None:
        self.tmp_dir = tmp_dir
        self.paths: list[str] = []
        self.finished: list[str] = []
        self.models: dict[str, LocalBackend] = {}
        self.samplers: dict[str, LocalSampler] = {}
        self.states: dict[str, str] = {}
        self.sampler_files: dict[str, str] = {}
        self._futures: dict[str, tuple[str, Any]] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- plumbing ------------------------------------------------------------------------------

    def _future(
        self, kind: str, payload: Any, model_id: str | None = None, n_sequences: int = 0
    ) -> web.Response:
        request_id = f"req-{next(self._ids)}"
        self._futures[request_id] = (kind, payload)
        body: dict[str, Any] = {"request_id": request_id}
        if n_sequences:
            body["sample_sequence_ids"] = [f"{request_id}-seq-{i}" for i in range(n_sequences)]
        if model_id is not None:
            body["model_id"] = model_id
        return web.json_response(body)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.paths.append(path)
        raw = await request.read()
        if request.content_type == PROTO:
            body: Any = raw
        else:
            body = json.loads(raw) if raw else {}
        if path.startswith("/api/v1/sessions/") and path.endswith("/finish"):
            self.finished.append(body["reason"]["type"])
            return web.json_response(None)
        if path.startswith("/api/v1/samplers/"):
            return await self._get_sampler(path.rsplit("/", 1)[-1])
        handler = getattr(self, "_" + path.removeprefix("/api/v1/").replace("/", "_"), None)
        if handler is None:
            return web.json_response({"error": f"not served: {path}"}, status=404)
        result: web.StreamResponse = await handler(body)
        return result

    async def start(self) -> TinkerWireServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # The SDK blocks its caller's thread while it fetches its configuration, so the server
    # runs its own event loop in a thread of its own.

    def start_in_thread(self) -> TinkerWireServer:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), self._loop).result(timeout=30)
        return self

    def stop_thread(self) -> None:
        asyncio.run_coroutine_threadsafe(self.close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    # -- session -------------------------------------------------------------------------------

    async def _client_config(self, body: Any) -> web.Response:
        # Plain API-key auth, httpx transport, uncompressed protobuf requests.
        return web.json_response(
            {
                "pjwt_auth_enabled": False,
                "use_pyqwest_transport": False,
                "proto_compress_fwdbwd": False,
                "parallel_fwdbwd_chunks": False,
            }
        )

    async def _client_dynamic_config(self, body: Any) -> web.Response:
        return web.json_response({"refresh_interval_sec": 300})

    async def _create_session(self, body: Any) -> web.Response:
        return web.json_response({"type": "create_session", "session_id": "session-1"})

    async def _session_heartbeat(self, body: Any) -> web.Response:
        return web.json_response({"type": "session_heartbeat"})

    async def _telemetry(self, body: Any) -> web.Response:
        return web.json_response({"status": "accepted"})

    # -- training ------------------------------------------------------------------------------

    async def _create_model(self, body: Any) -> web.Response:
        # The SDK derives the same id from (session_id, model_seq_id).
        model_id = f"{body['session_id']}:train:{body['model_seq_id']}"
        lora = body.get("lora_config") or {}
        config = LoraConfig(
            rank=int(lora.get("rank", 32)),
            seed=lora.get("seed"),
            train_mlp=bool(lora.get("train_mlp", True)),
            train_attn=bool(lora.get("train_attn", True)),
            train_unembed=bool(lora.get("train_unembed", True)),
        )
        self.models[model_id] = LocalBackend(config, checkpoint_dir=self.tmp_dir, dtype=np.float64)
        return self._future(
            "create_model", {"model_id": model_id, "type": "create_model"}, model_id
        )

    async def _get_info(self, body: Any) -> web.Response:
        model_id = body["model_id"]
        backend = self.models[model_id]
        return web.json_response(
            {
                "type": "get_info",
                "model_id": model_id,
                "model_data": {
                    "arch": "byte-transformer",
                    "model_name": backend.base_model,
                    "tokenizer_id": backend.base_model,
                },
                "is_lora": True,
                "lora_rank": backend.config.rank,
                "model_name": backend.base_model,
            }
        )

    async def _forward_backward(self, body: bytes) -> web.Response:
        from tinker.proto import tinker_public_pb2 as pb

        msg = pb.ForwardBackwardRequest()
        msg.ParseFromString(body)
        backend = self.models[msg.model_id]
        data = []
        for d in msg.data:
            tokens = np.concatenate(
                [np.frombuffer(c.encoded_text.tokens, dtype=np.int32) for c in d.model_input]
            )
            inputs = {}
            for name, tensor in d.loss_fn_inputs.items():
                dtype = np.int64 if tensor.dtype == pb.DTYPE_INT64 else np.float32
                inputs[name] = np.frombuffer(tensor.dense, dtype=dtype)
            data.append(Datum(tokens.astype(np.int64), inputs))
        config = dict(msg.loss_fn_config) or None
        if msg.forward_only:
            out = await backend.forward(data, msg.loss_fn, config)
        else:
            out = await backend.forward_backward(data, msg.loss_fn, config)
        reply = pb.ForwardBackwardOutput()
        reply.loss_fn_output_type = "ArrayRecord"
        for k, v in out.metrics.items():
            reply.metrics[k] = v
        record = reply.loss_fn_outputs.add()
        record.num_datums = len(out.loss_fn_outputs)
        for name in ("logprobs", "elementwise_loss"):
            arrays = [o[name].astype(np.float32) for o in out.loss_fn_outputs]
            field = record.fields[name]
            field.dtype = pb.DTYPE_FLOAT32
            field.data = b"".join(a.tobytes() for a in arrays)
            field.offsets = np.cumsum([0] + [a.nbytes for a in arrays]).astype(np.int64).tobytes()
        return self._future("proto", reply.SerializeToString(), msg.model_id)

    async def _optim_step(self, body: Any) -> web.Response:
        backend = self.models[body["model_id"]]
        adam = body["adam_params"]
        result = await backend.optim_step(
            AdamParams(
                **{
                    k: adam[k]
                    for k in (
                        "learning_rate",
                        "beta1",
                        "beta2",
                        "eps",
                        "weight_decay",
                        "grad_clip_norm",
                    )
                    if k in adam
                }
            )
        )
        return self._future("json", {"metrics": result.metrics}, body["model_id"])

    async def _save_weights(self, body: Any) -> web.Response:
        backend = self.models[body["model_id"]]
        local = await backend.save_state(body["path"])
        uri = f"tinker://{body['model_id']}/weights/{body['path']}"
        self.states[uri] = local
        return self._future("json", {"path": uri, "type": "save_weights"}, body["model_id"])

    async def _load_weights(self, body: Any) -> web.Response:
        local = self.states[body["path"]]
        model_id = body.get("model_id")
        if model_id is None:
            # create_training_client_from_state: a new model, shaped like the saved one.
            model_id = f"{body['session_id']}:train:{body['model_seq_id']}"
            _, meta = read_checkpoint(local, kinds=(CheckpointKind.STATE,))
            self.models[model_id] = LocalBackend(
                LoraConfig.from_dict(meta["lora_config"]),
                checkpoint_dir=self.tmp_dir,
                dtype=np.float64,
            )
        await self.models[model_id].load_state(local, with_optimizer=bool(body.get("optimizer")))
        return self._future("json", {"type": "load_weights", "path": body["path"]}, model_id)

    async def _save_weights_for_sampler(self, body: Any) -> web.Response:
        backend = self.models[body["model_id"]]
        sampler = await backend.save_weights_for_sampler(body["path"])
        uri = f"tinker://{body['model_id']}/sampler_weights/{body['path']}"
        self.sampler_files[uri] = sampler.path
        return self._future(
            "json", {"path": uri, "type": "save_weights_for_sampler"}, body["model_id"]
        )

    # -- sampling ------------------------------------------------------------------------------

    async def _create_sampling_session(self, body: Any) -> web.Response:
        session = f"sampling-{len(self.samplers) + 1}"
        self.samplers[session] = load_sampler(self.sampler_files[body["model_path"]])
        return web.json_response(
            {"type": "create_sampling_session", "sampling_session_id": session}
        )

    async def _get_sampler(self, session: str) -> web.Response:
        sampler = self.samplers[session]
        return web.json_response(
            {"sampler_id": session, "base_model": sampler.base_model, "model_path": sampler.path}
        )

    async def _asample(self, body: Any) -> web.Response:
        from tinker.proto import tinker_public_pb2 as pb

        sampler = self.samplers[body["sampling_session_id"]]
        tokens = [t for chunk in body["prompt"]["chunks"] for t in chunk["tokens"]]
        sp = body["sampling_params"]
        stop = sp.get("stop") or ()
        params = SamplingParams(
            max_tokens=sp.get("max_tokens") or 16,
            temperature=sp.get("temperature", 1.0),
            top_p=sp.get("top_p", 1.0),
            stop=[stop] if isinstance(stop, str) else list(stop),
            seed=sp.get("seed"),
        )
        reply = pb.SampleResponse()
        for _ in range(int(body.get("num_samples", 1))):
            out, lps, finish = sampler.sample_tokens(tokens, params)
            seq = reply.sequences.add()
            seq.tokens = np.asarray(out, dtype=np.int32).tobytes()
            seq.logprobs = np.asarray(lps, dtype=np.float32).tobytes()
            seq.stop_reason = pb.STOP_REASON_STOP if finish == "stop" else pb.STOP_REASON_LENGTH
        return self._future("proto", reply.SerializeToString(), n_sequences=len(reply.sequences))

    # -- futures -------------------------------------------------------------------------------

    async def _retrieve_future(self, body: Any) -> web.Response:
        kind, payload = self._futures.pop(body["request_id"])
        if kind == "proto":
            return web.Response(body=payload, content_type=PROTO)
        return web.json_response(payload)
