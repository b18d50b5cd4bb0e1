"""The `wildrydes` command: every subcommand grouped by concern."""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from infra.errors import WildrydesError
from localaws.errors import LocalError
from localaws.settings import LocalSettings, default_data_dir
from streaming.map.config import MapError

# What a person acts on: printed as one line, exit 1, never a traceback. Each layer has its own.
USER_ERRORS = (WildrydesError, LocalError, MapError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wildrydes",
        description="Wild Rydes unicorn telemetry platform: run it locally, deploy it, feed it, query it.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from infra.cli.faults import add_faults_command
    from infra.cli.local import add_local_commands

    add_local_commands(subparsers)
    add_faults_command(subparsers)
    from infra.cli.backfill import add_backfill_command
    from infra.cli.deploy import add_deploy_command
    from infra.cli.map import add_map_command
    from infra.cli.query import add_query_command
    from streaming.aggregates import add_aggregates_command
    from streaming.producer.cli import add_produce_command

    add_deploy_command(subparsers)
    add_produce_command(subparsers)
    add_aggregates_command(subparsers)
    add_backfill_command(subparsers)
    add_map_command(subparsers)
    add_query_command(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as error:
        print(f"wildrydes: error: {error}", file=sys.stderr)
        return 1
    except EndpointConnectionError as error:
        print(f"wildrydes: error: cannot reach {error.kwargs.get('endpoint_url')}: is the endpoint running? "
              "(start it with `wildrydes local up`)", file=sys.stderr)
        return 1
    except ClientError as error:
        info = error.response.get("Error", {})
        print(f"wildrydes: error: {error.operation_name} failed: {info.get('Code')}: {info.get('Message')}",
              file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("wildrydes: error: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; "
              f"for the local platform: {_local_shell()}", file=sys.stderr)
        return 1
    except NoRegionError:
        print("wildrydes: error: no AWS region: set AWS_DEFAULT_REGION (or a profile region); for the local platform: "
              f"{_local_shell()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _local_shell() -> str:
    return f"`{LocalSettings(default_data_dir()).shell_exports()}` (the line `make up` prints)"


if __name__ == "__main__":
    sys.exit(main())
