"""The local Athena engine: Athena's JSON API, queries executed by DuckDB over the Glue catalog and S3.

``python -m localaws.athena --port P --data-dir D`` serves AmazonAthena.* operations on 127.0.0.1.
Modules, one job each, each importing only those below it:

- ``server``          HTTP (aiohttp): the JSON 1.1 protocol, errors, health
- ``api``             the Athena operations (request dict -> response dict)
- ``executor``        worker threads running queries asynchronously, cancellation, timeouts
- ``runner``          one statement: parsed, dispatched by kind; queries and EXPLAIN run here
- ``ddl``             DDL and utility statements, dispatched to their families:
- ``ddl_databases``     CREATE/DROP DATABASE
- ``ddl_tables``        CREATE EXTERNAL TABLE, DROP TABLE/VIEW, ALTER TABLE (columns, properties, rename, location)
- ``ddl_partitions``    ALTER TABLE ADD/DROP PARTITION, partition SET LOCATION, MSCK REPAIR TABLE
- ``ddl_views``         CREATE [OR REPLACE] VIEW
- ``ddl_show``          SHOW ..., DESCRIBE
- ``writes``          statements that write data, dispatched to their families:
- ``ctas``              CREATE TABLE AS SELECT
- ``insert``            INSERT INTO
- ``unload``            UNLOAD
- ``iceberg``           emulated Iceberg tables: MERGE/UPDATE/DELETE, OPTIMIZE, VACUUM, their Glue table
- ``writer``          rows written as a table's objects (Parquet, text, JSON, CSV), per partition
- ``context``         what statements share: services, QueryContext, Outcome, DuckDB connections with tables registered
- ``planning``        which objects each table reference reads (partitions, listings)
- ``transpile``       Athena (Trino) SQL -> DuckDB SQL with sqlglot, and Athena's semantics fixed up
- ``pruning``         which partitions a query needs (Glue expressions, partition projection)
- ``scans``           a Glue table as a DuckDB relation (Parquet, JSON, CSV SerDes)
- ``statements``      what a statement is: its kind and its parts, parsed by sqlglot
- ``commands``        statements sqlglot keeps as commands (SHOW, MSCK, EXPLAIN, UNLOAD ...), parsed from tokens
- ``kinds``           what kind of statement a text is, from its first words (and Athena's statement types)
- ``security``        which SQL may run at all
- ``syntax``          tokens, table names and positions in Athena's SQL
- ``objects``         S3: listing, the local object cache DuckDB reads from, uploads
- ``views``           Athena's Presto view encoding in Glue
- ``catalog``         Glue: databases, tables, partitions, writes to the catalog
- ``results``         Athena's result formats (CSV, .txt, .metadata) and paging
- ``store``           durable query state (SQLite under ``<data dir>/athena/``)
- ``duck``            DuckDB connections: locked down, pre-warmed
- ``types``           Athena / Hive / DuckDB type names
- ``errors``          Athena's error categories and messages
"""
