"""Statements that write data: CTAS, INSERT INTO, UNLOAD, and for Iceberg tables MERGE, UPDATE, DELETE,
OPTIMIZE, VACUUM.

The query runs in DuckDB into a temporary table; its rows are written as objects to S3 with pyarrow
(Parquet by default, or text/JSON/CSV for tables of those formats), one set of objects per partition,
named ``<query id>_<n>`` like Athena's; then the table and its partitions are registered in Glue. A
query writes at most 100 partitions (Athena's HIVE_TOO_MANY_OPEN_PARTITIONS limit, which dbt-athena
relies on to batch). Nothing is registered if writing fails, and what was written is removed.

Iceberg tables are emulated: the Glue table says ``table_type=ICEBERG`` (so clients such as
dbt-athena treat it as Iceberg), its rows live as plain Parquet objects under ``<location>data/`` with
the partition columns inside the files (Iceberg's hidden partitioning; ``partitioning`` is recorded
as a table property), and MERGE / UPDATE / DELETE rewrite the whole table copy-on-write: the new
objects are written first, then the old ones deleted. There are no snapshots, time travel or
concurrent-writer isolation.

Writing rows is ``writer``'s; each family of statements has its module, and ``Writes`` dispatches to them:

- ``ctas``     CREATE TABLE AS SELECT
- ``insert``   INSERT INTO
- ``unload``   UNLOAD
- ``iceberg``  MERGE, UPDATE, DELETE, OPTIMIZE, VACUUM on emulated Iceberg tables (and their Glue table)
"""

from __future__ import annotations

from localaws.athena.context import Connections, Handler
from localaws.athena.ctas import Ctas
from localaws.athena.iceberg import IcebergWrites
from localaws.athena.insert import Insert
from localaws.athena.unload import Unload


class Writes:
    def __init__(self, connections: Connections) -> None:
        self._handlers: dict[str, Handler] = {}
        for family in (Ctas, Insert, Unload, IcebergWrites):
            self._handlers.update(family(connections).handlers())

    def handler(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)
