"""Queries run asynchronously: StartQueryExecution only records the query and hands it to a worker
thread here; the worker runs it, writes the results to S3 and records the final state.

Every state change goes through the store with a guard on the current state, so a query stopped
while it runs stays CANCELLED, and a query is never run twice. A watchdog fails queries that run
longer than the timeout (interrupting DuckDB), so no query hangs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from localaws.athena import results, switches
from localaws.athena.context import Outcome, QueryContext, Services
from localaws.athena.errors import AthenaQueryError
from localaws.athena.objects import ObjectStore
from localaws.athena.recent import RecentResults
from localaws.athena.runner import Runner
from localaws.athena.store import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, QueryRecord, QueryStore
from localaws.athena.types import athena_column_info

log = logging.getLogger("wildrydes.athena.executor")

CSV_PART_BYTES = 16 * 1024 * 1024  # a query's CSV result goes up in parts of this size while it runs


class Executor:
    def __init__(self, store: QueryStore, services: Services, results_dir: Path, workers: int,
                 timeout_s: float) -> None:
        self.store = store
        self.services = services
        self.runner = Runner(services)
        self.fast_paths = switches.fast_paths()
        self.recent = RecentResults() if self.fast_paths else None
        self.results_dir = results_dir
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="query")
        self._io = ThreadPoolExecutor(2 * workers, thread_name_prefix="results")
        self._warm(workers)
        self._jobs: dict[str, QueryContext] = {}
        self._started: dict[str, float] = {}
        self._timed_out: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="query-watchdog", daemon=True)
        self._watchdog.start()

    def _warm(self, workers: int) -> None:
        """Open the workers' DuckDBs now rather than on their first queries."""
        barrier = threading.Barrier(workers)

        def open_database() -> None:
            self.services.duck.open_spare()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)

        for _ in range(workers):
            self._pool.submit(open_database)

    @property
    def objects(self) -> ObjectStore:
        return self.services.objects

    # ---- lifecycle -----------------------------------------------------------------------
    def submit(self, record: QueryRecord, output_folder: str) -> None:
        ctx = QueryContext(
            query_id=record.id, sql=record.query, database=(record.database or "default"),
            output_location=output_folder, workgroup=record.workgroup, services=self.services,
            parameters=list(record.parameters or []),
        )
        location = f"{output_folder}{record.id}.csv"

        def open_csv_upload(names: list[str], duck_types: list[str]) -> results.CsvUpload:
            if ctx.metadata_upload is None:
                ctx.metadata_upload = results.MetadataUpload(self.objects, f"{location}.metadata", self._io.submit)
            ctx.metadata_upload.send([athena_column_info(n, t) for n, t in zip(names, duck_types, strict=True)])
            return results.CsvUpload(self.objects, location, names, self._io.submit, CSV_PART_BYTES)

        ctx.open_csv_upload = open_csv_upload
        with self._lock:
            self._jobs[record.id] = ctx
        self._pool.submit(self._run, record, ctx)

    def stop(self, query_id: str) -> None:
        """StopQueryExecution: a queued or running query becomes CANCELLED at once."""
        changed = self.store.update(query_id, only_if_state=(QUEUED, RUNNING), state=CANCELLED,
                                    reason="Query was cancelled by the user", completed=time.time())
        if changed:
            self._interrupt(query_id)

    def _interrupt(self, query_id: str) -> None:
        with self._lock:
            ctx = self._jobs.get(query_id)
        if ctx is None:
            return
        ctx.cancelled.set()
        try:
            ctx.interrupt()
        except Exception:  # the connection may be closing
            log.debug("interrupting %s failed", query_id, exc_info=True)

    def shutdown(self) -> None:
        self._stopping.set()
        with self._lock:
            running = list(self._jobs)
        for query_id in running:
            self.store.update(query_id, only_if_state=(QUEUED, RUNNING), state=FAILED,
                              reason="ENGINE_RESTARTED: The local Athena engine stopped while this query was running; "
                                     "run the query again",
                              athena_error=AthenaQueryError("ENGINE_RESTARTED", "The local Athena engine stopped "
                                                            "while this query was running; run the query again"
                                                            ).athena_error(),
                              completed=time.time())
            self._interrupt(query_id)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.runner.kept is not None:
            self.runner.kept.close()

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            now = time.monotonic()
            with self._lock:
                expired = [q for q, started in self._started.items() if now - started > self.timeout_s]
                self._timed_out.update(expired)
            for query_id in expired:
                self._interrupt(query_id)

    # ---- one query -----------------------------------------------------------------------
    def _run(self, record: QueryRecord, ctx: QueryContext) -> None:
        started = time.time()
        try:
            if not self.store.update(record.id, only_if_state=(QUEUED,), state=RUNNING, started=started):
                return  # stopped before it started
            with self._lock:
                self._started[record.id] = time.monotonic()
            try:
                outcome = self.runner.run(ctx)
                ran = time.time()
                ctx.check()
                location = self._write_results(record, ctx, outcome)
                phases = " ".join(f"{k} {v:.4f}" for k, v in ctx.timings.items())
                log.info("query %s %s: ran in %.4fs (%s), results written in %.4fs (%d rows)", record.id,
                         outcome.substatement_type, ran - started, phases, time.time() - ran,
                         outcome.text.num_rows if outcome.text is not None else 0)
            except AthenaQueryError as error:
                self._abort_upload(ctx)
                self._fail(record, ctx, error, started)
                return
            except Exception as error:  # a bug: report it as Athena reports internal errors
                log.exception("query %s failed unexpectedly", record.id)
                self._abort_upload(ctx)
                self._fail(record, ctx, AthenaQueryError("GENERIC_INTERNAL_ERROR", f"{type(error).__name__}: {error}"),
                           started)
                return
            completed = time.time()
            engine_ms = int((completed - started) * 1000)
            self.store.update(
                record.id, only_if_state=(RUNNING,), state=SUCCEEDED, completed=completed,
                statement_type=outcome.statement_type, substatement_type=outcome.substatement_type,
                output_location=location, scanned=outcome.scanned, engine_ms=engine_ms,
                planning_ms=outcome.planning_ms, processing_ms=max(0, int((completed - started) * 1000) - engine_ms),
                update_count=outcome.update_count,
                columns=[athena_column_info(n, t) for n, t in zip(outcome.names, outcome.duck_types, strict=True)],
                result_rows=outcome.text.num_rows if outcome.text is not None else 0,
                header_row=outcome.header_row,
            )
        finally:
            with self._lock:
                self._jobs.pop(record.id, None)
                self._started.pop(record.id, None)
                self._timed_out.discard(record.id)

    def _fail(self, record: QueryRecord, ctx: QueryContext, error: AthenaQueryError, started: float) -> None:
        with self._lock:
            timed_out = record.id in self._timed_out
        if timed_out:
            minutes = self.timeout_s / 60
            error = AthenaQueryError("EXCEEDED_TIME_LIMIT",
                                     f"Query exceeded the maximum execution time limit of {minutes:.2f}m")
        elif ctx.cancelled.is_set():
            return  # StopQueryExecution already recorded CANCELLED
        completed = time.time()
        self.store.update(record.id, only_if_state=(RUNNING,), state=FAILED, reason=error.reason,
                          athena_error=error.athena_error(), completed=completed, scanned=ctx.scanned,
                          engine_ms=int((completed - started) * 1000))

    @staticmethod
    def _abort_upload(ctx: QueryContext) -> None:
        upload, ctx.csv_upload = ctx.csv_upload, None
        if upload is not None:
            upload.abort()
        metadata, ctx.metadata_upload = ctx.metadata_upload, None
        if metadata is not None:
            metadata.abort()

    def _write_results(self, record: QueryRecord, ctx: QueryContext, outcome: Outcome) -> str:
        """The result object and its metadata in S3, and the local copy GetQueryResults pages from."""
        location = f"{ctx.output_location}{record.id}.{outcome.kind}"
        text = outcome.text
        column_info = [athena_column_info(n, t) for n, t in zip(outcome.names, outcome.duck_types, strict=True)]
        metadata = ctx.metadata_upload  # put early when the result's columns were known (a CSV result)
        if metadata is not None and metadata.url != f"{location}.metadata":
            metadata.abort()
            metadata = None
        if metadata is None:
            metadata = ctx.metadata_upload = results.MetadataUpload(self.objects, f"{location}.metadata",
                                                                    self._io.submit)
        metadata.send(column_info)
        uploads = []
        streamed = ctx.csv_upload if outcome.kind == "csv" else None
        if streamed is None:
            if outcome.kind == "csv":
                body = results.csv_bytes(text, outcome.names) if text is not None and outcome.names else b""
            else:
                body = results.txt_bytes(text) if text is not None else b""
            uploads.append(self._io.submit(self.objects.put, location, body,
                                           "text/csv" if outcome.kind == "csv" else "text/plain"))
        if text is not None and text.num_rows:
            uploads.append(self._io.submit(results.ResultFile(self.results_dir / f"{record.id}.arrow").write, text))
        try:
            if streamed is not None:  # the rest of the CSV, then the upload completed (here: it waits for parts)
                streamed.finish()
                ctx.csv_upload = None
        finally:
            for upload in uploads:
                upload.result()
        metadata.finish(column_info)
        ctx.metadata_upload = None
        if self.recent is not None and text is not None and text.num_rows:
            self.recent.put(record.id, text)
        if outcome.manifest is not None:
            manifest = f"{ctx.output_location}{record.id}-manifest.csv"
            self.objects.put(manifest, "".join(f"{url}\n" for url in outcome.manifest).encode(), "text/csv")
            self.store.update(record.id, manifest_location=manifest)
        return location
