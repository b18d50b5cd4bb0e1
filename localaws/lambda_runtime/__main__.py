"""`python -m localaws.lambda_runtime --data-dir D`: the Lambda runtime process of `wildrydes local up`."""

from __future__ import annotations

import sys
from pathlib import Path

from localaws.kinesis_consumer.process import serve
from localaws.lambda_runtime.checkpoints import CheckpointStore
from localaws.lambda_runtime.service import LambdaRuntime


def runtime(data_dir: Path) -> LambdaRuntime:
    return LambdaRuntime(CheckpointStore(data_dir / "lambda" / "checkpoints.sqlite"),
                         status_path=data_dir / "lambda" / "status.json")


def main(argv: list[str] | None = None) -> int:
    return serve("the local Lambda runtime (Kinesis event source mappings)", runtime, argv)


if __name__ == "__main__":
    sys.exit(main())
