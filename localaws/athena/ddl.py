"""DDL and utility statements, executed against the Glue catalog (and S3 where Athena touches data), by
statement family:

- ``ddl_databases``   CREATE / DROP DATABASE
- ``ddl_tables``      CREATE EXTERNAL TABLE, DROP TABLE / VIEW, ALTER TABLE (RENAME TO, SET TBLPROPERTIES,
                      ADD / REPLACE / CHANGE COLUMNS, SET LOCATION)
- ``ddl_partitions``  ALTER TABLE ADD / DROP PARTITION, partition SET LOCATION, MSCK REPAIR TABLE
- ``ddl_views``       CREATE [OR REPLACE] VIEW
- ``ddl_show``        SHOW ..., DESCRIBE

``Ddl`` dispatches a statement kind to its family. Results are Athena's: headerless ``.txt`` rows (one
field per column, tab-separated in the file).
"""

from __future__ import annotations

from localaws.athena.context import Connections, Handler
from localaws.athena.ddl_databases import Databases
from localaws.athena.ddl_partitions import Partitions
from localaws.athena.ddl_show import Show
from localaws.athena.ddl_tables import Tables
from localaws.athena.ddl_views import Views


class Ddl:
    def __init__(self, connections: Connections) -> None:
        self._handlers: dict[str, Handler] = {}
        for family in (Databases, Tables, Partitions, Views, Show):
            self._handlers.update(family(connections).handlers())

    def handler(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)
