"""S3 as the engine sees it: listings, a local cache of immutable object copies, uploads, deletes.

DuckDB cannot read the local S3 itself (its httpfs extension is not available offline), so the
objects a query reads are downloaded through boto3 (``AWS_ENDPOINT_URL``) into a cache under
``<data dir>/athena/cache/`` and DuckDB reads those copies with its native readers. A cached copy is
named by (bucket, key, ETag, size): a changed object is a new copy, so copies are never stale, and
every query lists S3 first, so it always sees the current objects. The cache is bounded; files a
running query uses are pinned and never evicted under it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from localaws.athena.catalog import mutation_stamp
from localaws.athena.errors import AthenaQueryError
from localaws.athena.freshness import Assumptions

log = logging.getLogger("wildrydes.athena.objects")

_LARGE_OBJECT = 64 * 1024 * 1024
# The local endpoint takes request bodies up to 64 MiB: larger objects go up in parts.
_MULTIPART_CHUNK = 32 * 1024 * 1024
_SINGLE_PUT_LIMIT = 48 * 1024 * 1024
_TRANSFER = TransferConfig(multipart_threshold=_SINGLE_PUT_LIMIT, multipart_chunksize=_MULTIPART_CHUNK,
                           max_concurrency=8)
LISTING_CACHE_ENTRIES = 1024


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix")."""
    for scheme in ("s3://", "s3a://", "s3n://"):
        if url.startswith(scheme):
            rest = url[len(scheme):]
            bucket, _, key = rest.partition("/")
            if not bucket:
                break
            return bucket, key
    raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"'{url}' is not an S3 location (s3://bucket/prefix/)")


def folder(url: str) -> str:
    """A location as a folder URL, with exactly one trailing slash."""
    return url.rstrip("/") + "/"


def is_data_key(key: str, prefix: str) -> bool:
    """Hive/Athena skip folder markers and files whose name starts with '_' or '.'."""
    if key.endswith("/") or key.endswith("_$folder$"):
        return False
    relative = key[len(prefix):]
    return not any(part.startswith(("_", ".")) for part in relative.split("/") if part)


class ObjectStore:
    def __init__(self, s3: Any, cache_dir: Path, max_cache_bytes: int, download_workers: int = 8) -> None:
        self.s3 = s3
        self.cache_dir = cache_dir / "objects"
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir = cache_dir / "incoming"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
        self.max_cache_bytes = max_cache_bytes
        self._pool = ThreadPoolExecutor(download_workers, thread_name_prefix="s3-download")
        self._pins: dict[Path, int] = {}
        self._lock = threading.Lock()
        self._cached_bytes = sum(p.stat().st_size for p in self.cache_dir.rglob("*") if p.is_file())
        # location -> (the bucket's mutation stamp, objects): see planned_list
        self._listings: OrderedDict[str, tuple[str, list[S3Object]]] = OrderedDict()
        self._listings_lock = threading.Lock()

    # ---- listing -------------------------------------------------------------------------
    def bucket_stamp(self, bucket: str) -> str | None:
        """The local endpoint's count of mutations of the bucket (HeadBucket, a cheap call)."""
        try:
            return mutation_stamp(self.s3.head_bucket(Bucket=bucket))
        except ClientError:
            return None

    def has_listing(self, url: str) -> bool:
        """Whether a listing of ``url`` is kept (see planned_list)."""
        with self._listings_lock:
            return url in self._listings

    def planned_list(self, url: str, assume: Assumptions | None = None) -> list[S3Object]:
        """The objects under a location a query reads (recursively). A listing is reused while the
        bucket's mutation stamp is the one it was listed with, i.e. while no object of the bucket has
        been written or deleted since; the stamp costs one HeadBucket instead of a listing. With
        ``assume`` that HeadBucket runs in the background while the query does (freshness.py)."""
        with self._listings_lock:
            cached = self._listings.get(url)
        if cached is not None and assume is not None:
            assume.bucket(parse_s3_url(folder(url))[0], cached[0])
            return list(cached[1])
        if cached is not None and self.bucket_stamp(parse_s3_url(folder(url))[0]) == cached[0]:
            with self._listings_lock:
                if url in self._listings:
                    self._listings.move_to_end(url)
            return list(cached[1])
        stamps: list[str | None] = []
        objects = self.list(url, stamps=stamps)
        if stamps and stamps[0] is not None and all(s == stamps[0] for s in stamps):
            with self._listings_lock:
                self._listings[url] = (stamps[0], objects)
                self._listings.move_to_end(url)
                while len(self._listings) > LISTING_CACHE_ENTRIES:
                    self._listings.popitem(last=False)
        return list(objects)

    def list(self, url: str, recursive: bool = True, stamps: list[str | None] | None = None) -> list[S3Object]:
        bucket, prefix = parse_s3_url(folder(url))
        if prefix == "/":
            prefix = ""
        objects: list[S3Object] = []
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if not recursive:
            kwargs["Delimiter"] = "/"
        try:
            while True:
                page = self.s3.list_objects_v2(**kwargs)
                if stamps is not None:
                    stamps.append(mutation_stamp(page))
                for item in page.get("Contents", []):
                    if is_data_key(item["Key"], prefix):
                        objects.append(S3Object(bucket, item["Key"], int(item["Size"]), item["ETag"].strip('"')))
                if not page.get("IsTruncated"):
                    break
                kwargs["ContinuationToken"] = page["NextContinuationToken"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                raise AthenaQueryError("HIVE_CURSOR_ERROR", f"The bucket of {url} does not exist") from None
            if code in ("AccessDenied", "403"):
                raise AthenaQueryError("ACCESS_DENIED", f"Access denied when listing {url}") from None
            raise AthenaQueryError("S3_ERROR", f"Listing {url} failed: {error}") from None
        return objects

    def list_many(self, urls: list[str], planned: bool = False,
                  assume: Assumptions | None = None) -> dict[str, list[S3Object]]:
        """List several locations in parallel (``planned``: for a query, see planned_list)."""
        unique = list(dict.fromkeys(urls))
        lister: Callable[[str], list[S3Object]] = (
            functools.partial(self.planned_list, assume=assume) if planned else self.list)
        if len(unique) == 1:
            return {unique[0]: lister(unique[0])}
        return dict(zip(unique, self._pool.map(lister, unique), strict=True))

    def has_objects(self, url: str) -> bool:
        bucket, prefix = parse_s3_url(folder(url))
        try:
            page = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=5)
        except ClientError:
            return False
        return any(not item["Key"].endswith("/") for item in page.get("Contents", []))

    # ---- the cache -----------------------------------------------------------------------
    def cache_path(self, obj: S3Object) -> Path:
        digest = hashlib.sha256(f"{obj.bucket}\0{obj.key}\0{obj.etag}\0{obj.size}".encode()).hexdigest()
        name = obj.key.rsplit("/", 1)[-1]
        suffixes = "".join(Path(name).suffixes[-2:])
        suffixes = "".join(c for c in suffixes if c.isalnum() or c in "._-")[:24]
        return self.cache_dir / digest[:2] / (digest + suffixes)

    @contextlib.contextmanager
    def pinned(self, objects: Iterable[S3Object], cancelled: Callable[[], bool] | None = None,
               ) -> Iterator[dict[S3Object, Path]]:
        """Local copies of the objects, downloaded as needed (in parallel), kept while in use."""
        objects = list(dict.fromkeys(objects))
        paths = {obj: self.cache_path(obj) for obj in objects}
        with self._lock:
            for path in paths.values():
                self._pins[path] = self._pins.get(path, 0) + 1
        try:
            missing = [obj for obj, path in paths.items() if not path.exists()]
            if missing:
                futures = [self._pool.submit(self._download, obj, paths[obj], cancelled) for obj in missing]
                errors = []
                for future in futures:
                    try:
                        future.result()
                    except AthenaQueryError as error:
                        errors.append(error)
                if errors:
                    raise errors[0]
            now = time.time()
            for path in paths.values():
                with contextlib.suppress(OSError):
                    os.utime(path, (now, now))
            yield paths
        finally:
            with self._lock:
                for path in paths.values():
                    count = self._pins.get(path, 0) - 1
                    if count <= 0:
                        self._pins.pop(path, None)
                    else:
                        self._pins[path] = count
            self.evict()

    def _download(self, obj: S3Object, path: Path, cancelled: Callable[[], bool] | None) -> None:
        if path.exists():
            return
        if cancelled and cancelled():
            raise AthenaQueryError("USER_CANCELED", "Query was canceled")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp_dir / f"{uuid.uuid4().hex}.part"
        try:
            if obj.size >= _LARGE_OBJECT:
                self.s3.download_file(obj.bucket, obj.key, str(tmp), Config=_TRANSFER)
            else:
                body = self.s3.get_object(Bucket=obj.bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')["Body"]
                with tmp.open("wb") as out:
                    for chunk in iter(lambda: body.read(1024 * 1024), b""):
                        out.write(chunk)
            if tmp.stat().st_size != obj.size:
                raise AthenaQueryError("HIVE_CURSOR_ERROR",
                                       f"{obj.url} changed while it was read; run the query again")
            os.replace(tmp, path)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "PreconditionFailed", "412"):
                raise AthenaQueryError(
                    "HIVE_CURSOR_ERROR", f"{obj.url} changed or was deleted while the query ran; run it again"
                ) from None
            raise AthenaQueryError("S3_ERROR", f"Reading {obj.url} failed: {error}") from None
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._cached_bytes += obj.size

    def evict(self) -> None:
        """Bring the cache under its bound, least recently used copies first (pinned ones stay)."""
        with self._lock:
            if self._cached_bytes <= self.max_cache_bytes:
                return
            pins = set(self._pins)
        files = []
        for path in self.cache_dir.rglob("*"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                if path.is_file():
                    files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        target = int(self.max_cache_bytes * 0.8)
        for _, size, path in sorted(files):
            if total <= target:
                break
            if path in pins:
                continue
            path.unlink(missing_ok=True)
            total -= size
        with self._lock:
            self._cached_bytes = total

    # ---- writes --------------------------------------------------------------------------
    def put(self, url: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        bucket, key = parse_s3_url(url)
        try:
            if len(body) > _SINGLE_PUT_LIMIT:
                self.s3.upload_fileobj(io.BytesIO(body), bucket, key, ExtraArgs={"ContentType": content_type},
                                       Config=_TRANSFER)
                return
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                raise AthenaQueryError("S3_ERROR", f"Unable to write {url}: the bucket {bucket} does not exist") \
                    from None
            raise AthenaQueryError("S3_ERROR", f"Unable to write {url}: {error}") from None

    def start_multipart(self, url: str, content_type: str = "application/octet-stream") -> str:
        bucket, key = parse_s3_url(url)
        try:
            return str(self.s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"])
        except ClientError as error:
            raise AthenaQueryError("S3_ERROR", f"Unable to write {url}: {error}") from None

    def put_part(self, url: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        bucket, key = parse_s3_url(url)
        try:
            response = self.s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        except ClientError as error:
            raise AthenaQueryError("S3_ERROR", f"Unable to write {url}: {error}") from None
        return {"PartNumber": number, "ETag": response["ETag"]}

    def complete_multipart(self, url: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        bucket, key = parse_s3_url(url)
        try:
            self.s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                              MultipartUpload={"Parts": parts})
        except ClientError as error:
            raise AthenaQueryError("S3_ERROR", f"Unable to write {url}: {error}") from None

    def abort_multipart(self, url: str, upload_id: str) -> None:
        bucket, key = parse_s3_url(url)
        self.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)

    def put_file(self, url: str, path: Path, content_type: str = "application/octet-stream") -> None:
        bucket, key = parse_s3_url(url)
        try:
            self.s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type}, Config=_TRANSFER)
        except ClientError as error:
            raise AthenaQueryError("S3_ERROR", f"Unable to write {url}: {error}") from None
        except Exception as error:  # s3transfer wraps client errors
            raise AthenaQueryError("S3_ERROR", f"Unable to write {url}: {error}") from None

    def delete(self, objects: list[S3Object]) -> None:
        by_bucket: dict[str, list[str]] = {}
        for obj in objects:
            by_bucket.setdefault(obj.bucket, []).append(obj.key)
        for bucket, keys in by_bucket.items():
            for start in range(0, len(keys), 1000):
                chunk = keys[start:start + 1000]
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk],
                                                              "Quiet": True})

    def remove(self, url: str) -> None:
        bucket, key = parse_s3_url(url)
        self.s3.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, url: str) -> int:
        bucket, prefix = parse_s3_url(folder(url))
        keys: list[S3Object] = []
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            try:
                page = self.s3.list_objects_v2(**kwargs)
            except ClientError:
                return 0
            keys += [S3Object(bucket, item["Key"], int(item["Size"]), "") for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        self.delete(keys)
        return len(keys)


_HIVE_ESCAPED = frozenset('"#%\'*/:=?\\\x7f{[]^') | frozenset(chr(c) for c in range(0x20))


def hive_escape(value: str) -> str:
    """Hive's escaping of partition values in paths (FileUtils.escapePathName)."""
    if not value:
        return "__HIVE_DEFAULT_PARTITION__"
    return "".join(f"%{ord(c):02X}" if c in _HIVE_ESCAPED else c for c in value)
