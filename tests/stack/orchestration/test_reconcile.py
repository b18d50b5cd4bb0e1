"""The reconciliation check: passes on clean history, and reports each kind of break correctly."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.defs.quality.compare import Mismatch, reconcile
from tests.support.athena_stack import succeeded
from tests.support.orchestration_stack import HistoryStack, environment, started_history_stack

ITEM = {"Distance": 1800.5, "MinHealthPoints": 140, "MaxHealthPoints": 150, "MinMagicPoints": 90,
        "MaxMagicPoints": 101, "RecordCount": 60}


# ------------------------------------------------------------------------------------ pure comparison


def test_compare_kinds_and_tolerance() -> None:
    archive = {("A", "w1"): ITEM, ("A", "w2"): ITEM, ("B", "w1"): ITEM}
    dynamodb = {("A", "w1"): {**ITEM, "Distance": 1800.5 + 1e-10},  # float noise only: equal
                ("A", "w2"): {**ITEM, "MaxMagicPoints": 102},
                ("C", "w1"): ITEM}
    result = reconcile(archive, dynamodb)
    assert result.matched == 1 and not result.passed
    kinds = {(m.kind, m.name, m.window, m.fields) for m in result.mismatches}
    assert kinds == {("differs", "A", "w2", ("MaxMagicPoints",)), ("missing", "B", "w1", ()),
                     ("extra", "C", "w1", ())}


def test_distance_beyond_tolerance_and_counts_are_exact() -> None:
    result = reconcile({("A", "w"): ITEM}, {("A", "w"): {**ITEM, "Distance": 1800.51, "RecordCount": 59}})
    assert [m.fields for m in result.mismatches] == [("Distance", "RecordCount")]
    assert Mismatch("missing", "A", "w", archive=dict(ITEM)).row()["dynamodb"] == "—"


# ------------------------------------------------------------------------------- against the stack


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryStack]:
    yield from started_history_stack(tmp_path_factory.mktemp("reconcile"))


def run_check(loaded: HistoryStack, partition: str) -> dg.AssetCheckEvaluation:
    from orchestration.defs.archive.assets import raw_unicorn_status
    from orchestration.defs.quality.checks import archive_matches_dynamodb
    from tests.support.orchestration_stack import code_location_resources

    with environment(loaded.env):
        result = dg.materialize([raw_unicorn_status, archive_matches_dynamodb], partition_key=partition,
                                resources=code_location_resources(), raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def register(loaded: HistoryStack, partition: str) -> None:
    """Materializes the hour's raw partition alone (registers it in Glue)."""
    from orchestration.defs.archive.assets import raw_unicorn_status
    from tests.support.orchestration_stack import code_location_resources

    with environment(loaded.env):
        result = dg.materialize([raw_unicorn_status], partition_key=partition,
                                resources=code_location_resources())
    assert result.success


def mismatches(evaluation: dg.AssetCheckEvaluation) -> list[dict[str, Any]]:
    return [dict(r.data) for r in evaluation.metadata["first_mismatches"].records]


def archive_bucket(loaded: HistoryStack) -> str:
    s3 = loaded.stack.client("s3")
    return next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("wildrydes-archive-"))


def test_clean_history_passes(loaded: HistoryStack) -> None:
    for partition in loaded.hour_keys():
        evaluation = run_check(loaded, partition)
        assert evaluation.passed, mismatches(evaluation)
        assert evaluation.metadata["matched"].value == 60 * 5
        assert evaluation.metadata["missing_in_dynamodb"].value == 0
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR


def test_deleted_item_is_missing(loaded: HistoryStack) -> None:
    dynamodb = loaded.stack.client("dynamodb")
    start = loaded.report.start
    key = {"Name": {"S": "Shadowfax"}, "StatusTime": {"S": f"{start + timedelta(minutes=7):%Y-%m-%d %H:%M:%S}.000"}}
    item = dynamodb.get_item(TableName="UnicornSensorData", Key=key)["Item"]
    dynamodb.delete_item(TableName="UnicornSensorData", Key=key)
    try:
        evaluation = run_check(loaded, loaded.hour_keys()[0])
        assert not evaluation.passed
        assert evaluation.metadata["missing_in_dynamodb"].value == 1
        assert evaluation.metadata["extra_in_dynamodb"].value == 0
        assert evaluation.metadata["differing"].value == 0
        [row] = mismatches(evaluation)
        assert (row["kind"], row["unicorn"], row["window"]) == ("missing", "Shadowfax", key["StatusTime"]["S"])
    finally:
        dynamodb.put_item(TableName="UnicornSensorData", Item=item)


def test_altered_value_differs(loaded: HistoryStack) -> None:
    dynamodb = loaded.stack.client("dynamodb")
    start = loaded.report.start
    key = {"Name": {"S": "Rocinante"}, "StatusTime": {"S": f"{start + timedelta(minutes=42):%Y-%m-%d %H:%M:%S}.000"}}
    original = dynamodb.get_item(TableName="UnicornSensorData", Key=key)["Item"]["MaxHealthPoints"]["N"]
    dynamodb.update_item(TableName="UnicornSensorData", Key=key, UpdateExpression="SET MaxHealthPoints = :v",
                         ExpressionAttributeValues={":v": {"N": str(int(original) + 1)}})
    try:
        evaluation = run_check(loaded, loaded.hour_keys()[0])
        assert not evaluation.passed
        assert (evaluation.metadata["differing"].value, evaluation.metadata["missing_in_dynamodb"].value,
                evaluation.metadata["extra_in_dynamodb"].value) == (1, 0, 0)
        [row] = mismatches(evaluation)
        assert (row["kind"], row["unicorn"], row["fields"]) == ("differs", "Rocinante", "MaxHealthPoints")
    finally:
        dynamodb.update_item(TableName="UnicornSensorData", Key=key, UpdateExpression="SET MaxHealthPoints = :v",
                             ExpressionAttributeValues={":v": {"N": original}})


def test_dropped_archive_record_differs_in_count(loaded: HistoryStack) -> None:
    s3 = loaded.stack.client("s3")
    bucket = archive_bucket(loaded)
    start = loaded.report.start + timedelta(hours=1)
    prefix = f"raw/dt={start:%Y-%m-%d}/hour={start:%H}/"
    key = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])[10]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    dropped = table.slice(3, 1).to_pylist()[0]
    sink = io.BytesIO()
    pq.write_table(pa.concat_tables([table.slice(0, 3), table.slice(4)]), sink, use_deprecated_int96_timestamps=True)
    s3.put_object(Bucket=bucket, Key=key, Body=sink.getvalue())
    try:
        evaluation = run_check(loaded, loaded.hour_keys()[1])
        assert not evaluation.passed
        [row] = mismatches(evaluation)
        assert row["kind"] == "differs" and row["unicorn"] == dropped["name"]
        assert "RecordCount" in row["fields"].split(", ")
        assert evaluation.metadata["differing"].value == 1
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=body)


def athena_count(loaded: HistoryStack, partition: datetime) -> tuple[int, int]:
    """(rows, distinct records by shard and sequence number) of an hour's partition, through Athena."""
    outputs = loaded.stack.outputs
    table = f'"{outputs["GlueDatabaseName"]}"."{outputs["RawTableName"]}"'
    _, rows = succeeded(loaded.stack.client("athena"),
                        f"SELECT count(*), count(DISTINCT shardid || '/' || sequencenumber) FROM {table} "
                        f"WHERE dt = '{partition:%Y-%m-%d}' AND hour = '{partition:%H}'",
                        database=outputs["GlueDatabaseName"], workgroup=outputs["AthenaWorkGroupName"])
    return int(rows[1][0] or 0), int(rows[1][1] or 0)


def test_a_duplicated_archive_object_is_counted_once(loaded: HistoryStack) -> None:
    """Firehose may deliver a record twice (a retried or restarted delivery): a copy of an hour's object under another
    key of the partition doubles its rows in Athena, and the reconciliation still counts each record once."""
    s3 = loaded.stack.client("s3")
    bucket = archive_bucket(loaded)
    start = loaded.report.start + timedelta(hours=1)
    prefix = f"raw/dt={start:%Y-%m-%d}/hour={start:%H}/"
    original = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])[5]
    body = s3.get_object(Bucket=bucket, Key=original)["Body"].read()
    copied_rows = pq.read_metadata(io.BytesIO(body)).num_rows
    assert copied_rows > 0
    duplicate = original[:-36] + str(uuid.uuid4())  # as Firehose names a second delivery of the same records
    assert duplicate != original and duplicate.startswith(prefix)
    s3.put_object(Bucket=bucket, Key=duplicate, Body=body)
    try:
        evaluation = run_check(loaded, loaded.hour_keys()[1])
        assert evaluation.passed, mismatches(evaluation)
        assert (evaluation.metadata["matched"].value, evaluation.metadata["archive_windows"].value,
                evaluation.metadata["dynamodb_items"].value) == (60 * 5, 60 * 5, 60 * 5)
        # the engine did read the copy: the partition holds its rows twice
        rows, distinct = athena_count(loaded, start)
        assert rows - distinct == copied_rows, (rows, distinct, copied_rows)
    finally:
        s3.delete_object(Bucket=bucket, Key=duplicate)


def test_an_item_the_archive_does_not_hold_is_extra_in_dynamodb(loaded: HistoryStack) -> None:
    """An item for a unicorn and minute with no archived record: in the hour before the loaded history (no other
    test reconciles it), a copy of one of Shadowfax's items moved there."""
    dynamodb = loaded.stack.client("dynamodb")
    hour = loaded.report.start - timedelta(hours=1)
    source = {"Name": {"S": "Shadowfax"},
              "StatusTime": {"S": f"{loaded.report.start + timedelta(minutes=7):%Y-%m-%d %H:%M:%S}.000"}}
    minute = f"{hour + timedelta(minutes=23):%Y-%m-%d %H:%M:%S}.000"
    key = {"Name": {"S": "Shadowfax"}, "StatusTime": {"S": minute}}
    assert "Item" not in dynamodb.get_item(TableName="UnicornSensorData", Key=key)
    item = {**dynamodb.get_item(TableName="UnicornSensorData", Key=source)["Item"], **key}
    if "WindowEnd" in item:
        item["WindowEnd"] = {"S": f"{hour + timedelta(minutes=24):%Y-%m-%d %H:%M:%S}.000"}
    partition = f"{hour:%Y-%m-%d-%H}:00"
    # DynamoDB is read for the unicorns the archive holds around the hour (its registered partitions): the loaded
    # hours are registered whichever test runs first.
    for loaded_hour in loaded.hour_keys():
        register(loaded, loaded_hour)
    before = run_check(loaded, partition)
    assert before.passed and before.metadata["archive_windows"].value == 0, mismatches(before)
    dynamodb.put_item(TableName="UnicornSensorData", Item=item)
    try:
        evaluation = run_check(loaded, partition)
        assert not evaluation.passed
        assert (evaluation.metadata["extra_in_dynamodb"].value, evaluation.metadata["missing_in_dynamodb"].value,
                evaluation.metadata["differing"].value, evaluation.metadata["matched"].value) == (1, 0, 0, 0)
        [row] = mismatches(evaluation)
        assert (row["kind"], row["unicorn"], row["window"], row["archive"]) == ("extra", "Shadowfax", minute, "—")
        assert f"RecordCount={item['RecordCount']['N']}" in row["dynamodb"]
    finally:
        dynamodb.delete_item(TableName="UnicornSensorData", Key=key)
