"""The one local AWS endpoint: an HTTP gateway that routes each request by service to its backend.

Kinesis → kinesalite, DynamoDB → dynalite, Athena queries → the Athena engine (when running),
everything else (S3, Glue, IAM, STS, Cognito Identity, SQS, Lambda/Firehose/Athena control planes)
→ the moto host. Answers CORS for the browser map. Backend failures come back as AWS-style errors.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from yarl import URL

from infra.local.aws_errors import error_response, protocol_of
from infra.local.routing import ATHENA_CONTROL_PLANE, service_of, target_operation

log = logging.getLogger("wildrydes.gateway")

MOTO_SERVICES = frozenset(
    {"s3", "glue", "iam", "sts", "cognito-identity", "sqs", "lambda", "firehose"}
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
    def __init__(self, backends: Backends, cors_origins: tuple[str, ...]) -> None:
        self.backends = backends
        self.cors = [re.compile(pattern) for pattern in cors_origins]
        self.session: aiohttp.ClientSession | None = None

    async def start(self, app: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=256, limit_per_host=64)
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

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
        target = request.headers.get("X-Amz-Target")
        service = service_of(request.headers.get("Authorization"), target, request.query_string)
        operation = target_operation(target)
        protocol = protocol_of(target, request.headers.get("Content-Type"), service)
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
        return await self._forward(request, backend, service, protocol, cors)

    async def _forward(
        self, request: web.Request, backend: str, service: str, protocol: str, cors: dict[str, str]
    ) -> web.StreamResponse:
        assert self.session is not None
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
                response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
                for key, value in upstream.headers.items():
                    if key.lower() not in _HOP_BY_HOP and not key.lower().startswith("access-control-"):
                        response.headers.add(key, value)
                response.headers.update(cors)
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


def _is_aws_error(response: aiohttp.ClientResponse) -> bool:
    content_type = response.headers.get("Content-Type", "")
    return "x-amzn-ErrorType" in response.headers or "xml" in content_type or "json" in content_type


def build_app(backends: Backends, cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS) -> web.Application:
    gateway = Gateway(backends, cors_origins)
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    backends = Backends(kinesis=args.kinesis, dynamodb=args.dynamodb, moto=args.moto, athena=args.athena)
    app = build_app(backends, tuple(args.cors_origin or DEFAULT_CORS_ORIGINS))

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

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
