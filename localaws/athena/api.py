"""The Athena operations: request dict in, response dict out, RequestError for what Athena rejects
synchronously. Field names and shapes are those of the AWS API (and what pyathena and dbt-athena read).
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from localaws.athena import kinds, reuse
from localaws.athena.catalog import DEFAULT_CATALOG, Catalog, TableInfo, athena_like_to_regex
from localaws.athena.errors import AthenaQueryError, RequestError
from localaws.athena.executor import Executor
from localaws.athena.objects import folder, parse_s3_url
from localaws.athena.results import ResultFile, decode_token, encode_token, page
from localaws.athena.store import FAILED, QUEUED, RUNNING, SUCCEEDED, QueryRecord, QueryStore

ENGINE_VERSION = "Athena engine version 3"
ANSWER_WAIT_S = 0.2  # how long GetQueryExecution of a running query may wait for it to finish
MAX_QUERY_LENGTH = 262144
LOOP_HEADER = "X-Wildrydes-Athena-Engine"


def _invalid(message: str, athena_code: str | None = None) -> RequestError:
    return RequestError("InvalidRequestException", message, athena_code)


class WorkGroups:
    """Workgroup configuration lives in moto (the gateway routes the control plane there); read it through
    the endpoint, briefly cached."""

    def __init__(self, athena: Any, ttl_s: float = 2.0) -> None:
        self.athena = athena
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> dict[str, Any] | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
            if cached and now - cached[0] < self.ttl_s:
                return cached[1]
        try:
            group = self.athena.get_work_group(WorkGroup=name).get("WorkGroup") or None
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("InvalidRequestException", "ResourceNotFoundException"):
                group = None
            else:
                raise RequestError("InternalServerException", f"Reading workgroup {name} failed: {error}",
                                   status=500) from None
        with self._lock:
            self._cache[name] = (now, group)
        return group


def _table_metadata(table: TableInfo) -> dict[str, Any]:
    created = table.raw.get("CreateTime")
    metadata: dict[str, Any] = {
        "Name": table.name,
        "TableType": table.table_type,
        "Columns": [c.glue() for c in table.columns],
        "PartitionKeys": [c.glue() for c in table.partition_keys],
        "Parameters": dict(table.parameters),
    }
    if created is not None:
        metadata["CreateTime"] = created.timestamp() if hasattr(created, "timestamp") else created
    if table.location:
        metadata["Parameters"].setdefault("location", table.location)
    if table.input_format:
        metadata["Parameters"].setdefault("inputformat", table.input_format)
    if table.output_format:
        metadata["Parameters"].setdefault("outputformat", table.output_format)
    if table.serde:
        metadata["Parameters"].setdefault("serde.serialization.lib", table.serde)
    return metadata


class AthenaApi:
    def __init__(self, store: QueryStore, executor: Executor, catalog: Catalog, workgroups: WorkGroups,
                 athena_control: Any, account_id: str) -> None:
        self.store = store
        self.executor = executor
        self.catalog = catalog
        self.workgroups = workgroups
        self.athena_control = athena_control
        self.account_id = account_id
        self.answer_wait_s = ANSWER_WAIT_S
        self.operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "StartQueryExecution": self.start_query_execution,
            "GetQueryExecution": self.get_query_execution,
            "GetQueryResults": self.get_query_results,
            "StopQueryExecution": self.stop_query_execution,
            "BatchGetQueryExecution": self.batch_get_query_execution,
            "ListQueryExecutions": self.list_query_executions,
            "GetWorkGroup": self.get_work_group,
            "ListWorkGroups": self.list_work_groups,
            "ListDatabases": self.list_databases,
            "GetDatabase": self.get_database,
            "ListTableMetadata": self.list_table_metadata,
            "GetTableMetadata": self.get_table_metadata,
            "GetDataCatalog": self.get_data_catalog,
            "ListDataCatalogs": self.list_data_catalogs,
            "GetQueryRuntimeStatistics": self.get_query_runtime_statistics,
        }

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        handler = self.operations.get(operation)
        if handler is None:
            raise RequestError("UnknownOperationException",
                               f"The local Athena engine does not implement the operation '{operation}'")
        return handler(body)

    # ---- queries -------------------------------------------------------------------------
    def start_query_execution(self, body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("QueryString")
        if not isinstance(query, str) or not query.strip():
            raise _invalid("QueryString is required and must not be empty")
        if len(query) > MAX_QUERY_LENGTH:
            raise _invalid(f"QueryString is longer than {MAX_QUERY_LENGTH} characters")
        token = body.get("ClientRequestToken")
        if token:
            previous = self.store.by_token(token)
            if previous is not None:
                if previous.query != query:
                    raise _invalid("The ClientRequestToken was already used for a different query",
                                   "IDEMPOTENT_PARAMETER_MISMATCH")
                return {"QueryExecutionId": previous.id}
        workgroup_name = body.get("WorkGroup") or "primary"
        workgroup = self.workgroups.get(workgroup_name)
        if workgroup is None:
            raise _invalid(f"WorkGroup {workgroup_name} is not found.")
        if workgroup.get("State", "ENABLED") != "ENABLED":
            raise _invalid(f"WorkGroup {workgroup_name} is disabled.")
        configuration = workgroup.get("Configuration") or {}
        group_results = configuration.get("ResultConfiguration") or {}
        client_results = body.get("ResultConfiguration") or {}
        enforced = bool(configuration.get("EnforceWorkGroupConfiguration"))
        if enforced and group_results.get("OutputLocation"):
            result_configuration = dict(group_results)
        else:
            result_configuration = {**group_results, **client_results}
        output = result_configuration.get("OutputLocation")
        if not output:
            raise _invalid("No output location provided. An output location is required either through the Workgroup "
                           "result configuration setting or as an API input.")
        if not str(output).startswith("s3://"):
            raise _invalid(f"Output location {output} is not an S3 location")
        context = body.get("QueryExecutionContext") or {}
        catalog = context.get("Catalog") or DEFAULT_CATALOG
        if catalog.lower() != DEFAULT_CATALOG:
            raise _invalid(f"Catalog {catalog} is not found; the local engine serves {DEFAULT_CATALOG} (Glue)")
        parameters = body.get("ExecutionParameters")
        if parameters is not None and (not isinstance(parameters, list)
                                       or not all(isinstance(p, str) for p in parameters)):
            raise _invalid("ExecutionParameters must be a list of strings")
        reuse_request = reuse.reuse_request(body)
        query_id = str(uuid.uuid4())
        statement_type, substatement_type = kinds.classify(query)
        output_folder = folder(str(output)) if not str(output).endswith("/") else str(output)
        extension = "csv" if statement_type == "DML" and substatement_type != "EXPLAIN" else "txt"
        record = QueryRecord(
            id=query_id, token=token, query=query, workgroup=workgroup_name, state=QUEUED,
            submitted=time.time(), catalog=catalog, database=(context.get("Database") or "default").lower(),
            output_location=f"{output_folder}{query_id}.{extension}",
            result_configuration={k: v for k, v in result_configuration.items() if k != "OutputLocation"},
            statement_type=statement_type, substatement_type=substatement_type, parameters=parameters or None,
            engine_version=(configuration.get("EngineVersion") or {}).get("EffectiveEngineVersion")
            or ENGINE_VERSION,
            reuse_configuration=reuse_request.echo()["ResultReuseByAgeConfiguration"] if reuse_request else None,
        )
        # "If you override the result configuration for the query, the feature is disabled": a result
        # configuration given with the request counts unless the workgroup enforces its own
        overridden = bool(client_results) and not (enforced and group_results.get("OutputLocation"))
        previous = None if overridden else reuse.find_reusable(self.store, record, reuse_request,
                                                               self._result_exists, self.executor.results_dir)
        if previous is not None:
            self.store.insert(reuse.reused_record(record, previous, self.executor.results_dir))
            return {"QueryExecutionId": query_id}
        self.store.insert(record)
        self.executor.submit(record, output_folder)
        return {"QueryExecutionId": query_id}

    def _result_exists(self, url: str) -> bool:
        bucket, key = parse_s3_url(url)
        try:
            self.executor.objects.s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True

    def _record(self, body: dict[str, Any]) -> QueryRecord:
        query_id = body.get("QueryExecutionId")
        if not isinstance(query_id, str) or not query_id:
            raise _invalid("QueryExecutionId is required")
        record = self.store.get(query_id)
        if record is None:
            raise _invalid(f"QueryExecution {query_id} was not found", "INVALID_INPUT")
        return record

    @staticmethod
    def execution(record: QueryRecord) -> dict[str, Any]:
        status: dict[str, Any] = {"State": record.state, "SubmissionDateTime": record.submitted}
        if record.reason:
            status["StateChangeReason"] = record.reason
        if record.completed is not None:
            status["CompletionDateTime"] = record.completed
        if record.athena_error:
            status["AthenaError"] = record.athena_error
        now = time.time()
        end = record.completed or now
        # the time from submission to a worker taking the query up (or to its reused result), in whole
        # milliseconds rounded up: measured, and so never 0 once the query left the queue, as on AWS
        queue_ms = math.ceil(((record.started or end) - record.submitted) * 1000)
        total_ms = math.ceil((end - record.submitted) * 1000)
        statistics: dict[str, Any] = {
            "EngineExecutionTimeInMillis": record.engine_ms or 0,
            "DataScannedInBytes": record.scanned or 0,
            "TotalExecutionTimeInMillis": max(total_ms, 0),
            "QueryQueueTimeInMillis": max(queue_ms, 0),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": record.planning_ms or 0,
            "ServiceProcessingTimeInMillis": record.processing_ms or 0,
            "ResultReuseInformation": {"ReusedPreviousResult": record.reused},
        }
        if record.manifest_location:
            statistics["DataManifestLocation"] = record.manifest_location
        result_configuration = {"OutputLocation": record.output_location, **record.result_configuration}
        execution: dict[str, Any] = {
            "QueryExecutionId": record.id,
            "Query": record.query,
            "StatementType": record.statement_type or "DML",
            "ResultConfiguration": result_configuration,
            "ResultReuseConfiguration": reuse.echo(record.reuse_configuration),
            "QueryExecutionContext": {"Database": record.database or "default",
                                      "Catalog": record.catalog or DEFAULT_CATALOG},
            "Status": status,
            "Statistics": statistics,
            "WorkGroup": record.workgroup,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": record.engine_version},
            "SubstatementType": record.substatement_type or "SELECT",
        }
        if record.parameters:
            execution["ExecutionParameters"] = record.parameters
        return execution

    def get_query_execution(self, body: dict[str, Any]) -> dict[str, Any]:
        """A running query's answer waits (at most ANSWER_WAIT_S) for the query to finish: the client
        learns it finished when it does, not a poll interval later, and polls less often meanwhile."""
        record = self._record(body)
        if record.state in (QUEUED, RUNNING) and self.answer_wait_s > 0:
            record = self.store.wait_final(record.id, self.answer_wait_s) or record
        return {"QueryExecution": self.execution(record)}

    def batch_get_query_execution(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = body.get("QueryExecutionIds")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 50:
            raise _invalid("QueryExecutionIds must list 1 to 50 ids")
        found, missing = [], []
        for query_id in ids:
            record = self.store.get(str(query_id))
            if record is None:
                missing.append({"QueryExecutionId": query_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": f"QueryExecution {query_id} was not found"})
            else:
                found.append(self.execution(record))
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def list_query_executions(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = int(body.get("MaxResults") or 50)
        if not 0 < limit <= 50:
            raise _invalid("MaxResults must be between 0 and 50")
        workgroup = body.get("WorkGroup") or "primary"
        offset = 0
        if body.get("NextToken"):
            offset = decode_token(f"list:{workgroup}", body["NextToken"])
        ids = self.store.list_ids(workgroup, limit + 1, offset)
        response: dict[str, Any] = {"QueryExecutionIds": ids[:limit]}
        if len(ids) > limit:
            response["NextToken"] = encode_token(f"list:{workgroup}", offset + limit)
        return response

    def stop_query_execution(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._record(body)
        self.executor.stop(record.id)
        return {}

    def get_query_results(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._record(body)
        if record.state != SUCCEEDED:
            if record.state == FAILED:
                raise _invalid(f"Query did not finish successfully. Final query state: FAILED\n{record.reason or ''}",
                               "INVALID_INPUT")
            if record.final:
                raise _invalid(f"Query did not finish successfully. Final query state: {record.state}",
                               "INVALID_INPUT")
            raise _invalid(f"Query has not yet finished. Current state: {record.state}", "INVALID_INPUT")
        max_results = int(body.get("MaxResults") or 1000)
        if not 1 <= max_results <= 1000:
            raise _invalid("MaxResults must be between 1 and 1000")
        offset = decode_token(record.id, body["NextToken"]) if body.get("NextToken") else 0
        columns = record.columns or []
        text = None
        if record.result_rows:
            text = self.executor.recent.get(record.id) if self.executor.recent is not None else None
            path = self.executor.results_dir / f"{record.id}.arrow"
            if text is None and not path.exists():
                raise _invalid(f"The results of query {record.id} are no longer available locally", "INVALID_INPUT")
            if text is None:
                text = ResultFile(path).read()
        names = [str(c["Name"]) for c in columns]
        rows, next_offset = page(text, names, record.header_row, offset, max_results)
        response: dict[str, Any] = {
            "ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": columns}},
        }
        if record.update_count is not None:
            response["UpdateCount"] = record.update_count
        if next_offset is not None:
            response["NextToken"] = encode_token(record.id, next_offset)
        return response

    def get_query_runtime_statistics(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._record(body)
        execution = self.execution(record)["Statistics"]
        return {"QueryRuntimeStatistics": {
            "Timeline": {k: execution[k] for k in ("QueryQueueTimeInMillis", "QueryPlanningTimeInMillis",
                                                   "EngineExecutionTimeInMillis", "ServiceProcessingTimeInMillis",
                                                   "TotalExecutionTimeInMillis")},
            "Rows": {"InputRows": 0, "InputBytes": record.scanned or 0, "OutputBytes": 0,
                     "OutputRows": record.result_rows or 0},
        }}

    # ---- workgroups (moto) ---------------------------------------------------------------
    def _proxy(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = getattr(self.athena_control, method)(**body)
        except ClientError as error:
            detail = error.response.get("Error", {})
            raise RequestError(detail.get("Code", "InvalidRequestException"), detail.get("Message", str(error))) \
                from None
        response.pop("ResponseMetadata", None)
        return response

    def get_work_group(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("WorkGroup")
        if not name:
            raise _invalid("WorkGroup is required")
        group = self.workgroups.get(str(name))
        if group is None:
            raise _invalid(f"WorkGroup {name} is not found.")
        return {"WorkGroup": group}

    def list_work_groups(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._proxy("list_work_groups", body)

    # ---- catalog -------------------------------------------------------------------------
    def _check_catalog(self, body: dict[str, Any]) -> None:
        name = body.get("CatalogName") or DEFAULT_CATALOG
        if str(name).lower() != DEFAULT_CATALOG:
            raise RequestError("MetadataException", f"Catalog {name} was not found")

    def get_data_catalog(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("Name") or "")
        if name.lower() != DEFAULT_CATALOG:
            raise _invalid(f"Catalog {name} was not found")
        return {"DataCatalog": {"Name": "AwsDataCatalog", "Description": "AWS Glue Data Catalog (local)",
                                "Type": "GLUE", "Parameters": {"catalog-id": self.account_id}}}

    def list_data_catalogs(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"DataCatalogsSummary": [{"CatalogName": "AwsDataCatalog", "Type": "GLUE"}]}

    def list_databases(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_catalog(body)
        databases = sorted(self.catalog.list_databases(), key=lambda d: d["Name"])
        items = [{"Name": d["Name"], **({"Description": d["Description"]} if d.get("Description") else {}),
                  "Parameters": d.get("Parameters") or {}} for d in databases]
        return self._paged(items, body, "DatabaseList", "databases")

    def get_database(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_catalog(body)
        name = str(body.get("DatabaseName") or "")
        database = self.catalog.get_database(name)
        if database is None:
            raise RequestError("MetadataException", f"Database {name} was not found")
        return {"Database": {"Name": database["Name"], "Description": database.get("Description", ""),
                             "Parameters": database.get("Parameters") or {}}}

    def list_table_metadata(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_catalog(body)
        database = str(body.get("DatabaseName") or "")
        if self.catalog.get_database(database) is None:
            raise RequestError("MetadataException", f"Database {database} was not found")
        tables = sorted(self.catalog.list_tables(database), key=lambda t: t.name)
        expression = body.get("Expression")
        if expression:
            pattern = athena_like_to_regex(str(expression))
            tables = [t for t in tables if pattern.match(t.name) or re.fullmatch(str(expression), t.name)]
        return self._paged([_table_metadata(t) for t in tables], body, "TableMetadataList", f"tables:{database}")

    def get_table_metadata(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_catalog(body)
        database, name = str(body.get("DatabaseName") or ""), str(body.get("TableName") or "")
        try:
            table = self.catalog.get_table(database, name)
        except AthenaQueryError as error:
            raise RequestError("MetadataException", error.message) from None
        if table is None:
            raise RequestError("MetadataException", f"Table {name} was not found in database {database}")
        return {"TableMetadata": _table_metadata(table)}

    @staticmethod
    def _paged(items: list[dict[str, Any]], body: dict[str, Any], key: str, scope: str) -> dict[str, Any]:
        limit = int(body.get("MaxResults") or 50)
        offset = decode_token(scope, body["NextToken"]) if body.get("NextToken") else 0
        response: dict[str, Any] = {key: items[offset:offset + limit]}
        if offset + limit < len(items):
            response["NextToken"] = encode_token(scope, offset + limit)
        return response

