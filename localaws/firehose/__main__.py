"""`python -m localaws.firehose --data-dir D`: the Firehose delivery process of `wildrydes local up`."""

from __future__ import annotations

import logging
import os
import sys

from localaws.firehose.service import FirehoseRuntime
from localaws.kinesis_consumer.process import serve


def main(argv: list[str] | None = None) -> int:
    return serve("local Firehose delivery (Kinesis source → S3)", FirehoseRuntime, argv)


if __name__ == "__main__":
    code = main()
    # Everything durable is already in SQLite and S3: skip the interpreter's slow teardown (pyarrow,
    # boto3) so that a SIGTERM ends the process in well under a second.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)
