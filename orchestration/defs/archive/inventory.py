"""What the archive holds for one hour: its Parquet objects (count, bytes, rows read from the footers
with ranged GETs — the data pages are never downloaded) and the records Firehose wrote to ``errors/``."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

TAIL_BYTES = 64 * 1024
RAW_PREFIX = "raw/"
ERROR_PREFIX = "errors/"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    rows: int = 0


@dataclass
class HourInventory:
    objects: list[ObjectInfo] = field(default_factory=list)
    error_records: dict[str, int] = field(default_factory=dict)  # by error-output-type

    @property
    def object_count(self) -> int:
        return len(self.objects)

    @property
    def bytes(self) -> int:
        return sum(o.size for o in self.objects)

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.objects)

    @property
    def error_total(self) -> int:
        return sum(self.error_records.values())


def raw_prefix(dt: str, hour: str) -> str:
    return f"{RAW_PREFIX}dt={dt}/hour={hour}/"


def list_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(page.get("Contents", []))
    return out


def list_common_prefixes(s3: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    return out


class RangedObject(io.RawIOBase):
    """A seekable, read-only view of an S3 object that serves reads from a prefetched tail and fetches
    anything else with a ranged GET — enough for pyarrow to read a Parquet footer."""

    def __init__(self, s3: Any, bucket: str, key: str, size: int, tail: int = TAIL_BYTES) -> None:
        super().__init__()
        self.s3, self.bucket, self.key, self.size = s3, bucket, key, size
        self.position = 0
        self.tail_start = max(0, size - tail)
        self.tail = self._get(self.tail_start, size - 1) if size else b""
        self.gets = 1

    def _get(self, first: int, last: int) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={first}-{last}")["Body"].read()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self.position)
        if want <= 0:
            return 0
        start, end = self.position, self.position + want
        if start >= self.tail_start:
            data = self.tail[start - self.tail_start : end - self.tail_start]
        else:
            data = self._get(start, end - 1)
            self.gets += 1
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def parquet_rows(s3: Any, bucket: str, key: str, size: int) -> int:
    """Rows of a Parquet object, from its footer."""
    with pa.PythonFile(RangedObject(s3, bucket, key, size), mode="r") as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def error_records(s3: Any, bucket: str, dt: str, hour: str) -> dict[str, int]:
    """Records Firehose wrote under ``errors/<error-output-type>/dt=…/hour=…/`` (one JSON document a line)."""
    counts: dict[str, int] = {}
    for type_prefix in list_common_prefixes(s3, bucket, ERROR_PREFIX):
        output_type = type_prefix[len(ERROR_PREFIX):].rstrip("/")
        for obj in list_objects(s3, bucket, f"{type_prefix}dt={dt}/hour={hour}/"):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            counts[output_type] = counts.get(output_type, 0) + sum(1 for line in body.splitlines() if line.strip())
    return counts


def hour_inventory(s3: Any, bucket: str, dt: str, hour: str, workers: int = 8) -> HourInventory:
    listed = [o for o in list_objects(s3, bucket, raw_prefix(dt, hour)) if o["Size"] > 0]

    def footer(obj: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(obj["Key"], obj["Size"], parquet_rows(s3, bucket, obj["Key"], obj["Size"]))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        objects = list(pool.map(footer, listed))
    return HourInventory(objects=objects, error_records=error_records(s3, bucket, dt, hour))
