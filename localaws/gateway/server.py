"""The one local AWS endpoint: an HTTP gateway that routes each request by service to its backend.

Kinesis → kinesalite, DynamoDB → dynalite, Athena queries → the Athena engine (when running),
everything else (S3, Glue, IAM, STS, Cognito Identity, SQS, CloudWatch Logs, Lambda/Firehose/Athena control planes)
→ the moto host. Answers CORS for the browser map. Backend failures come back as AWS-style errors.

Faults can be injected at run time (AWS errors, slow responses, failed PutRecords/BatchWriteItem entries) per
service and operation through the loopback-only admin API ``/_wildrydes/faults`` (localaws/gateway/faults.py):
GET lists the rules and their counters, POST adds a rule (a JSON object, or a list of them), DELETE removes
all rules (or one: ``/_wildrydes/faults/<id>``).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import ipaddress
import json
import logging
import re
import signal
import sys
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from localaws import event_loops
from localaws.errors import LocalError
from localaws.gateway.authorization import MODES, Authorizer
from localaws.gateway.faults import (
    Decision,
    FaultRuleError,
    FaultSet,
    batch_write_result,
    put_records_result,
    split_batch_write,
    split_put_records,
)
from localaws.gateway.kinesis_scaling import ScalingError, update_shard_count
from localaws.settings import DEFAULT_REGION, LOCAL_ACCOUNT_ID
from localaws.wire.errors import error_response, injected_error, protocol_of
from localaws.wire.operations import operation_name
from localaws.wire.routing import (
    ATHENA_CONTROL_PLANE,
    s3_operation,
    service_of,
    target_operation,
    unsigned_query_service,
)

log = logging.getLogger("wildrydes.gateway")

MOTO_SERVICES = frozenset(
    {"s3", "glue", "iam", "sts", "cognito-identity", "sqs", "lambda", "firehose", "logs"}
)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect",
     "content-length", "proxy-connection"}
)
_EXPOSED = (
    "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, x-amz-request-id, x-amz-id-2, "
    "x-amz-version-id, x-amz-delete-marker, ETag, Content-Length, Date"
)
DEFAULT_CORS_ORIGINS = (r"https?://(127\.0\.0\.1|localhost)(:\d+)?",)
FAULTS_PATH = "/_wildrydes/faults"
SMALL_BODY = 1024 * 1024  # answers up to this size are read whole and sent in one piece
IAM_PATH = "/_wildrydes/iam"


@dataclass
class Backends:
    kinesis: str
    dynamodb: str
    moto: str
    athena: str | None = None
    sessions: dict[str, aiohttp.ClientSession] = field(default_factory=dict)

    def url_for(self, service: str, operation: str | None) -> str | None:
        if service == "kinesis":
            return self.kinesis
        if service == "dynamodb":
            return self.dynamodb
        if service == "athena":
            if operation in ATHENA_CONTROL_PLANE:
                return self.moto
            return self.athena
        if service in MOTO_SERVICES:
            return self.moto
        return None


class Gateway:
    def __init__(self, backends: Backends, cors_origins: tuple[str, ...], authorizer: Authorizer) -> None:
        self.backends = backends
        self.cors = [re.compile(pattern) for pattern in cors_origins]
        self.session: aiohttp.ClientSession | None = None
        self.faults = FaultSet()
        self.authorizer = authorizer

    async def start(self, app: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=256, limit_per_host=64)
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )
        self.authorizer.session = self.session

    async def stop(self, app: web.Application) -> None:
        if self.session:
            await self.session.close()

    def _cors_headers(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if not origin or not any(p.fullmatch(origin) for p in self.cors):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": _EXPOSED,
            "Vary": "Origin",
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        cors = self._cors_headers(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return self._preflight(request, cors)
        if request.path == "/_wildrydes/health":
            return await self._health(cors)
        if request.path == FAULTS_PATH or request.path.startswith(FAULTS_PATH + "/"):
            return await self._faults_admin(request)
        if request.path == IAM_PATH:
            return await self._iam_admin(request)
        if request.path.startswith("/_wildrydes/"):  # the backends' own admin paths are not for clients
            return web.json_response({"error": "unknown admin path"}, status=404)
        target = request.headers.get("X-Amz-Target")
        content_type = request.headers.get("Content-Type")
        service = service_of(request.headers.get("Authorization"), target, request.query_string)
        operation = target_operation(target)
        body = await request.read()
        if service == "s3" and "Authorization" not in request.headers and request.method == "POST":
            # an unsigned query-protocol call (STS's AssumeRoleWithWebIdentity) names its service by its version
            service = unsigned_query_service(content_type, body) or service
        if operation is None and service not in ("s3", "lambda"):
            operation = operation_name(None, body, content_type) or _query_action(request)
        protocol = protocol_of(target, content_type, service)
        backend = self.backends.url_for(service, operation)
        if backend is None:
            if service == "athena":
                return self._error(
                    400, "InvalidRequestException",
                    "Athena queries are not available on the local endpoint: the Athena engine is not "
                    "running", protocol, cors,
                )
            return self._error(
                400, "UnknownServiceException",
                f"The local endpoint does not serve the AWS service '{service}'", protocol, cors,
            )
        try:
            refused = await self.authorizer.check(request, service, operation, protocol, body)
        except (TimeoutError, aiohttp.ClientConnectionError) as error:
            log.warning("IAM backend unreachable at %s while checking a %s request: %s",
                        self.authorizer.moto_url, service, error)
            return self._error(
                503, "ServiceUnavailable",
                "The local IAM backend that checks this request's credentials is not reachable; "
                "is `wildrydes local up` healthy?", protocol, cors,
            )
        if refused is not None:
            return web.Response(status=refused.status, body=refused.body or None, headers={**refused.headers, **cors})
        if service == "kinesis" and operation == "UpdateShardCount":
            return await self._update_shard_count(request, backend, protocol, cors)
        if self.faults.rules:
            operation = await self._operation(request, service, target, protocol)
            decision = self.faults.decide(service, operation)
            if decision:
                return await self._faulted(request, decision, backend, service, operation, protocol, cors)
        response = await self._forward(request, backend, service, protocol, cors)
        if service in ("iam", "s3"):
            s3_op = s3_operation(request.method, request.path, request.query_string) if service == "s3" else None
            self.authorizer.after(service, operation or s3_op, response.status)
        return response

    async def _update_shard_count(self, request: web.Request, backend: str, protocol: str,
                                  cors: dict[str, str]) -> web.Response:
        """kinesalite has no UpdateShardCount: done here with its SplitShard and MergeShards."""
        assert self.session is not None
        headers = {key: request.headers[key] for key in ("Authorization", "X-Amz-Date") if key in request.headers}

        async def call(target: str, body: dict) -> tuple[int, dict]:
            assert self.session is not None
            async with self.session.post(backend + "/", data=json.dumps(body), headers={
                    **headers, "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}) as response:
                return response.status, json.loads(await response.read() or b"{}")

        try:
            result = await update_shard_count(call, json.loads(await request.read() or b"{}"))
        except ScalingError as error:
            return self._error(error.status, error.code, str(error), protocol, cors)
        except ValueError:
            return self._error(400, "SerializationException", "the request body is not JSON", protocol, cors)
        return web.json_response(result, headers=cors, content_type="application/x-amz-json-1.1")

    async def _forward(
        self, request: web.Request, backend: str, service: str, protocol: str, cors: dict[str, str],
        body: bytes | None = None, respond: Callable[[bytes], bytes] | None = None,
    ) -> web.StreamResponse:
        """Pass the request on (with ``body`` instead of its own if given); ``respond`` rewrites a 200's body."""
        assert self.session is not None
        if body is None:
            body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            async with self.session.request(
                request.method, URL(backend + request.raw_path, encoded=True),
                headers=headers, data=body, allow_redirects=False,
            ) as upstream:
                if upstream.status >= 500 and not _is_aws_error(upstream):
                    detail = (await upstream.read()).decode("utf-8", "replace")
                    log.warning("%s backend answered %s to %s", service, upstream.status, request.path)
                    if upstream.status == 501 or "has not been implemented" in detail:
                        return self._error(
                            501, "NotImplemented",
                            f"The local {service} backend does not support this operation", protocol, cors,
                        )
                    return self._error(
                        500, "InternalFailure",
                        f"The local {service} backend failed on this request (see its log)", protocol, cors,
                    )
                if respond is not None and upstream.status == 200:
                    return await self._rewritten(upstream, respond, cors)
                answer = CIMultiDict(
                    (key, value) for key, value in upstream.headers.items()
                    if key.lower() not in _HOP_BY_HOP and not key.lower().startswith("access-control-"))
                answer.update(cors)
                if _small_body(request.method, upstream):
                    # one send of head and body (a StreamResponse sends its head on its own first)
                    return web.Response(status=upstream.status, reason=upstream.reason, headers=answer,
                                        body=await upstream.read())
                response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=answer)
                if upstream.headers.get("Content-Length") is not None:
                    response.content_length = int(upstream.headers["Content-Length"])
                await response.prepare(request)
                async for chunk in upstream.content.iter_chunked(256 * 1024):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (TimeoutError, aiohttp.ClientConnectionError) as error:
            log.warning("%s backend unreachable at %s: %s", service, backend, error)
            return self._error(
                503, "ServiceUnavailable",
                f"The local {service} backend is not reachable; is `wildrydes local up` healthy?",
                protocol, cors,
            )

    async def _rewritten(
        self, upstream: aiohttp.ClientResponse, respond: Callable[[bytes], bytes], cors: dict[str, str]
    ) -> web.Response:
        raw = await upstream.read()
        if upstream.headers.get("Content-Encoding", "identity").lower() == "gzip":
            raw = gzip.decompress(raw)
        body = respond(raw)
        headers = {key: value for key, value in upstream.headers.items()
                   if key.lower() not in _HOP_BY_HOP and key.lower() not in ("content-encoding", "x-amz-crc32")
                   and not key.lower().startswith("access-control-")}
        if "x-amz-crc32" in upstream.headers:  # DynamoDB's checksum, which botocore verifies
            headers["x-amz-crc32"] = str(zlib.crc32(body) & 0xFFFFFFFF)
        return web.Response(status=200, body=body, headers={**headers, **cors})

    # ---- injected faults ----------------------------------------------------------------------------------
    async def _operation(self, request: web.Request, service: str, target: str | None, protocol: str) -> str | None:
        if target:
            return target_operation(target)
        if service == "s3":
            return s3_operation(request.method, request.path, request.query_string, dict(request.headers))
        if protocol == "query":
            return operation_name(None, await request.read(), request.headers.get("Content-Type"))
        return None

    async def _faulted(
        self, request: web.Request, decision: Decision, backend: str, service: str, operation: str | None,
        protocol: str, cors: dict[str, str],
    ) -> web.StreamResponse:
        if decision.delay_ms:
            await asyncio.sleep(decision.delay_ms / 1000)
        rule = decision.error
        if rule is not None:
            assert rule.error is not None
            error = injected_error(service, rule.error, protocol, status=rule.status,
                                   content_type=request.headers.get("Content-Type"),
                                   note=f" (fault {rule.id} injected by the local endpoint)")
            self.faults.count(service, operation, f"{error.status} {error.code}")
            return web.Response(status=error.status, body=error.body, headers={**error.headers, **cors})
        if decision.per_record is not None:
            return await self._per_record(request, decision, backend, service, operation, protocol, cors)
        return await self._forward(request, backend, service, protocol, cors)

    async def _per_record(
        self, request: web.Request, decision: Decision, backend: str, service: str, operation: str | None,
        protocol: str, cors: dict[str, str],
    ) -> web.StreamResponse:
        """Fail some entries of a PutRecords or BatchWriteItem as AWS does under load; write the others."""
        rule = decision.per_record
        assert rule is not None and rule.error is not None
        body = await request.read()
        note = f" (fault {rule.id} injected by the local endpoint)"
        try:
            if service == "kinesis":
                kept, failed, total = split_put_records(body, rule)
                n = len(failed)
            else:
                kept, unprocessed, total = split_batch_write(body, rule)
                n = sum(len(requests) for requests in unprocessed.values())
        except (ValueError, TypeError, AttributeError):  # not a request we can split: the backend judges it
            return await self._forward(request, backend, service, protocol, cors)
        if not n:
            return await self._forward(request, backend, service, protocol, cors)
        code = rule.error
        if service == "kinesis":
            self.faults.count(service, operation, f"entry {code}", n)
            if n == total:  # Kinesis answers 200 with every entry failed
                return web.Response(body=put_records_result(None, failed, total, code, note),
                                    content_type="application/x-amz-json-1.1",
                                    headers={"x-amzn-RequestId": str(uuid.uuid4()), **cors})
            return await self._forward(request, backend, service, protocol, cors, body=kept,
                                       respond=lambda up: put_records_result(up, failed, total, code, note))
        if n == total:  # DynamoDB fails the whole call when it processes none of the items
            error = injected_error(service, code, protocol, note=note)
            self.faults.count(service, operation, f"{error.status} {error.code}")
            return web.Response(status=error.status, body=error.body, headers={**error.headers, **cors})
        self.faults.count(service, operation, f"entry {code}", n)
        return await self._forward(request, backend, service, protocol, cors, body=kept,
                                   respond=lambda up: batch_write_result(up, unprocessed))

    async def _faults_admin(self, request: web.Request) -> web.Response:
        # Loopback peers only, and never from a browser page (a cross-site form could otherwise post rules).
        if not _is_loopback(request.remote) or "Origin" in request.headers:
            return web.json_response({"error": "the fault admin API answers local, non-browser clients only"},
                                     status=403)
        rule_id = request.path[len(FAULTS_PATH):].strip("/") or None
        if request.method == "GET":
            state = self.faults.describe()
            if rule_id is None:
                return web.json_response(state)
            found = [r for r in state["rules"] if r["id"] == rule_id]
            return web.json_response(found[0]) if found else _no_rule(rule_id)
        if request.method == "POST" and rule_id is None:
            try:
                payload = json.loads(await request.read() or b"null")
            except ValueError as error:
                return web.json_response({"error": f"the body is not JSON: {error}"}, status=400)
            added = []
            try:
                for item in payload if isinstance(payload, list) else [payload]:
                    added.append(self.faults.add(item))
            except FaultRuleError as error:
                self.faults.rules = [r for r in self.faults.rules if r not in added]
                return web.json_response({"error": str(error)}, status=400)
            state = self.faults.describe()
            ids = {r.id for r in added}
            rules = [r for r in state["rules"] if r["id"] in ids]
            for rule in rules:
                log.warning("fault rule added: %s", json.dumps(rule, sort_keys=True))
            return web.json_response({"rules": rules}, status=201)
        if request.method == "DELETE":
            final = {r["id"]: r for r in self.faults.describe()["rules"]}
            removed = self.faults.remove(rule_id)
            if rule_id is not None and not removed:
                return _no_rule(rule_id)
            if removed:
                log.warning("fault rule(s) removed: %s", ", ".join(r.id for r in removed))
            return web.json_response({"removed": [final[r.id] for r in removed], **self.faults.describe()})
        return web.json_response({"error": "use GET, POST or DELETE"}, status=405)

    async def _iam_admin(self, request: web.Request) -> web.Response:
        if not _is_loopback(request.remote) or "Origin" in request.headers:
            return web.json_response({"error": "the IAM admin API answers local, non-browser clients only"},
                                     status=403)
        if request.method == "DELETE":  # forget cached principals and policies
            self.authorizer.invalidate()
        elif request.method in ("PUT", "POST"):  # {"mode": "enforce" | "audit" | "off"}
            try:
                mode = json.loads(await request.read() or b"{}").get("mode")
                self.authorizer.set_mode(mode)
            except (ValueError, AttributeError) as error:
                return web.json_response({"error": str(error)}, status=400)
            log.warning("IAM mode set to %s", mode)
        return web.json_response(self.authorizer.describe())

    def _error(
        self, status: int, code: str, message: str, protocol: str, cors: dict[str, str]
    ) -> web.Response:
        error = error_response(status, code, message, protocol)
        return web.Response(status=error.status, body=error.body, headers={**error.headers, **cors})

    def _preflight(self, request: web.Request, cors: dict[str, str]) -> web.Response:
        if not cors:
            return web.Response(status=403, text="origin not allowed by the local endpoint's CORS policy")
        return web.Response(
            status=200,
            headers={
                **cors,
                "Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, HEAD, OPTIONS, PATCH",
                "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", "*"),
                "Access-Control-Max-Age": "600",
            },
        )

    async def _health(self, cors: dict[str, str]) -> web.Response:
        checks = {
            "kinesis": (self.backends.kinesis, "Kinesis_20131202.ListStreams", "1.1"),
            "dynamodb": (self.backends.dynamodb, "DynamoDB_20120810.ListTables", "1.0"),
        }
        results: dict[str, str] = {}
        for name, (url, target, json_version) in checks.items():
            headers = {
                "X-Amz-Target": target,
                "Content-Type": f"application/x-amz-json-{json_version}",
                "X-Amz-Date": "20260101T000000Z",
                "Authorization": _probe_auth(name),
            }
            results[name] = await self._probe(url + "/", headers=headers, data="{}")
        results["moto"] = await self._probe(self.backends.moto + "/_wildrydes/health")
        results["athena"] = (
            await self._probe(self.backends.athena + "/_wildrydes/health") if self.backends.athena
            else "not running"
        )
        healthy = all(v == "ok" for k, v in results.items() if k != "athena")
        return web.json_response(
            {"status": "ok" if healthy else "degraded", "backends": results},
            status=200 if healthy else 503, headers=cors,
        )

    async def _probe(self, url: str, headers: dict[str, str] | None = None, data: str | None = None) -> str:
        assert self.session is not None
        try:
            method = "POST" if data is not None else "GET"
            async with self.session.request(
                method, url, headers=headers, data=data, timeout=aiohttp.ClientTimeout(total=3)
            ) as resp:
                await resp.read()
                return "ok" if resp.status == 200 else f"HTTP {resp.status}"
        except (TimeoutError, aiohttp.ClientError) as error:
            return f"unreachable ({type(error).__name__})"


def _probe_auth(service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=health/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _no_rule(rule_id: str) -> web.Response:
    return web.json_response({"error": f"no fault rule {rule_id!r}"}, status=404)


def _small_body(method: str, upstream: aiohttp.ClientResponse) -> bool:
    """Whether the answer has a body of known length up to ``SMALL_BODY`` bytes (a HEAD's Content-Length is the
    object's, with no body; a 204 or 304 has none)."""
    length = upstream.headers.get("Content-Length")
    return (method != "HEAD" and upstream.status not in (204, 304) and length is not None and length.isdigit()
            and int(length) <= SMALL_BODY)


def _is_aws_error(response: aiohttp.ClientResponse) -> bool:
    content_type = response.headers.get("Content-Type", "")
    return "x-amzn-ErrorType" in response.headers or "xml" in content_type or "json" in content_type


def _query_action(request: web.Request) -> str | None:
    return request.query.get("Action") if request.method == "GET" else None


def build_app(backends: Backends, cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS,
              authorizer: Authorizer | None = None) -> web.Application:
    gateway = Gateway(backends, cors_origins,
                      authorizer or Authorizer("off", backends.moto, LOCAL_ACCOUNT_ID, DEFAULT_REGION))
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.on_startup.append(gateway.start)
    app.on_cleanup.append(gateway.stop)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the local AWS endpoint's gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kinesis", required=True)
    parser.add_argument("--dynamodb", required=True)
    parser.add_argument("--moto", required=True)
    parser.add_argument("--athena")
    parser.add_argument("--cors-origin", action="append", help="regex of allowed browser origins")
    parser.add_argument("--iam", choices=MODES, default="enforce",
                        help="enforce: refuse what IAM would refuse; audit: log it only; off: check nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    backends = Backends(kinesis=args.kinesis, dynamodb=args.dynamodb, moto=args.moto, athena=args.athena)
    authorizer = Authorizer(args.iam, args.moto, LOCAL_ACCOUNT_ID, DEFAULT_REGION)
    app = build_app(backends, tuple(args.cors_origin or DEFAULT_CORS_ORIGINS), authorizer)

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        print(f"gateway ready on {args.host}:{args.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()

    try:
        event_loops.run(serve())
    except LocalError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
