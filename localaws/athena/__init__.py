"""The local Athena engine: Athena's JSON API, queries executed by DuckDB over the Glue catalog and S3.

``python -m localaws.athena --port P --data-dir D`` serves AmazonAthena.* operations on 127.0.0.1.
Modules, one job each:

- ``server``     HTTP (aiohttp): the JSON 1.1 protocol, errors, health
- ``api``        the Athena operations (request dict -> response dict)
- ``store``      durable query state (SQLite under ``<data dir>/athena/``)
- ``executor``   worker threads running queries asynchronously, cancellation, timeouts
- ``statements`` what a statement is (classification and parsing of Athena's SQL)
- ``transpile``  Athena (Trino) SQL -> DuckDB SQL with sqlglot, and Athena's semantics fixed up
- ``catalog``    Glue: tables, views, partitions (pruning, projection), writes to the catalog
- ``objects``    S3: listing, the local object cache DuckDB reads from, uploads
- ``scans``      a Glue table as a DuckDB relation (Parquet, JSON, CSV SerDes)
- ``ddl``        DDL and utility statements (CREATE/DROP/ALTER/MSCK/SHOW/DESCRIBE)
- ``writes``     CTAS, INSERT INTO, MERGE/UPDATE/DELETE (Parquet objects + Glue)
- ``views``      Athena's Presto view encoding in Glue
- ``results``    Athena's result formats (CSV, .txt, .metadata) and paging
- ``duck``       DuckDB connections: locked down, pre-warmed
- ``security``   which SQL may run at all
- ``types``      Athena / Hive / DuckDB type names
- ``errors``     Athena's error categories and messages
"""
