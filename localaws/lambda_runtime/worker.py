"""A Lambda worker process: imports one handler and invokes it for each event read from stdin.

Protocol (protocol.py): one request in ({"event", "context"}), one JSON line out ({"result"} or {"error"}). The
handler's own prints go to stderr (the function's log), never into the protocol stream; its log records are
formatted as AWS's Python runtime formats them (``[LEVEL]\t<UTC time>\t<request id>\t<message>``), at the
level ``AWS_LAMBDA_LOG_LEVEL`` says (WARNING by default, as on AWS).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
import traceback
from typing import Any

from localaws.lambda_runtime.protocol import encode_reply, read_requests


class LambdaContext:
    """The attributes and method AWS's Python runtime gives a handler's context."""

    def __init__(self, meta: dict[str, Any]) -> None:
        self.function_name: str = meta["function_name"]
        self.function_version: str = meta.get("function_version", "$LATEST")
        self.invoked_function_arn: str = meta["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(meta.get("memory_limit_in_mb", 128))
        self.aws_request_id: str = meta["aws_request_id"]
        self.log_group_name: str = f"/aws/lambda/{self.function_name}"
        self.log_stream_name: str = meta.get("log_stream_name", "local")
        self.identity = None
        self.client_context = None
        self._deadline_ms: float = meta["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


class RequestId(logging.Filter):
    """Stamps each log record with the request id of the invocation it belongs to."""

    current = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.current
        return True


def configure_logging() -> RequestId:
    stamp = RequestId()
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                                  "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(stamp)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING").upper())
    return stamp


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws.lambda_runtime.worker")
    parser.add_argument("handler", help="module.function")
    parser.add_argument("--codec", choices=("fast", "json"), default="fast", help="protocol.py")
    args = parser.parse_args()
    fast = args.codec == "fast"
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    stamp = configure_logging()

    def reply(message: dict[str, Any]) -> None:
        protocol.write(encode_reply(message, fast))
        protocol.flush()

    module_name, _, function_name = args.handler.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # reported on every invoke, like AWS's Runtime.ImportModuleError
        handler = None
        import_error = {"errorType": "Runtime.ImportModuleError", "errorMessage": f"{type(error).__name__}: {error}"}
    for request in read_requests(sys.stdin.buffer, fast):
        if handler is None:
            reply({"error": import_error})
            continue
        stamp.current = request["context"]["aws_request_id"]
        try:
            result = handler(request["event"], LambdaContext(request["context"]))
            reply({"result": result})
        except Exception as error:
            reply({"error": {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }})
    return 0


if __name__ == "__main__":
    sys.exit(main())
