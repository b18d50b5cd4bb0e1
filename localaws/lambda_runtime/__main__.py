"""`python -m localaws.lambda_runtime --data-dir D`: the Lambda runtime process of `wildrydes local up`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from localaws.lambda_runtime.checkpoints import CheckpointStore
from localaws.lambda_runtime.service import LambdaRuntime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the local Lambda runtime (Kinesis event source mappings)")
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    runtime = LambdaRuntime(CheckpointStore(args.data_dir / "lambda" / "checkpoints.sqlite"),
                            status_path=args.data_dir / "lambda" / "status.json")

    def shutdown(signum: int, frame: Any) -> None:
        runtime.stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
