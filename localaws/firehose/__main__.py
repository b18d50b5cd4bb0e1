"""`python -m localaws.firehose --data-dir D`: the Firehose delivery process of `wildrydes local up`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from localaws.firehose.service import FirehoseRuntime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="local Firehose delivery (Kinesis source → S3)")
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    runtime = FirehoseRuntime(args.data_dir)

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
    code = main()
    # Everything durable is already in SQLite and S3: skip the interpreter's slow teardown (pyarrow,
    # boto3) so that a SIGTERM ends the process in well under a second.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)
