"""A Hive table's partitions in Glue: ALTER TABLE ADD / DROP PARTITION, ALTER TABLE ... PARTITION (...) SET
LOCATION, and MSCK REPAIR TABLE (the ``key=value/`` folders under the table's location that Glue does
not know yet, added).
"""

from __future__ import annotations

import re

from localaws.athena.catalog import Partition, TableInfo
from localaws.athena.context import Handler, Outcome, QueryContext, StatementFamily, no_rows, text_rows
from localaws.athena.errors import AthenaQueryError
from localaws.athena.objects import folder, hive_escape, parse_s3_url
from localaws.athena.statements import Statement


class Partitions(StatementFamily):
    def handlers(self) -> dict[str, Handler]:
        return {"alter_add_partition": self.alter_add_partition, "alter_drop_partition": self.alter_drop_partition,
                "alter_partition_location": self.alter_partition_location, "msck": self.msck}

    def _spec_values(self, table: TableInfo, spec: list[tuple[str, str]], partial: bool = False) -> list[str | None]:
        keys = [k.name for k in table.partition_keys]
        if not keys:
            raise AthenaQueryError("NOT_SUPPORTED", f"Table {table.qualified} is not partitioned")
        given = dict(spec)
        unknown = [k for k in given if k not in keys]
        if unknown:
            raise AthenaQueryError("HIVE_INVALID_PARTITION_VALUE",
                                   f"Partition column '{unknown[0]}' is not a partition key of {table.qualified}")
        if not partial and len(given) != len(keys):
            raise AthenaQueryError("HIVE_INVALID_PARTITION_VALUE",
                                   f"Partition spec {dict(spec)} must give every partition key: {', '.join(keys)}")
        return [given.get(k) for k in keys]

    def _default_location(self, table: TableInfo, values: list[str]) -> str:
        return folder(table.location) + "/".join(
            f"{k.name}={hive_escape(v)}" for k, v in zip(table.partition_keys, values, strict=True)) + "/"

    def alter_add_partition(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        table = self.table(ctx, details["table"])
        partitions = []
        for item in details["partitions"]:
            values = [str(v) for v in self._spec_values(table, item["spec"])]
            location = item["location"] or self._default_location(table, values)
            parse_s3_url(location)
            partitions.append((values, folder(location)))
        self.catalog.create_partitions(table, partitions, if_not_exists=details["if_not_exists"])
        return no_rows(statement)

    def _matching(self, table: TableInfo, values: list[str | None]) -> list[Partition]:
        conditions = " AND ".join(f"{k.name} = '{v}'" for k, v in zip(table.partition_keys, values, strict=True)
                                  if v is not None)
        found = self.catalog.partitions(table, conditions or None)
        return [p for p in found if all(v is None or p.values[i] == v for i, v in enumerate(values))]

    def alter_drop_partition(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        table = self.table(ctx, details["table"])
        doomed: list[list[str]] = []
        for spec in details["specs"]:
            values = self._spec_values(table, spec, partial=True)
            matching = self._matching(table, values)
            if not matching and not details["if_exists"]:
                raise AthenaQueryError("PARTITION_NOT_FOUND",
                                       f"Partition not found: {', '.join(f'{k}={v}' for k, v in spec)}")
            doomed += [p.values for p in matching]
        if doomed:
            self.catalog.delete_partitions(table, doomed)
        return no_rows(statement)

    def alter_partition_location(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        table = self.table(ctx, details["table"])
        values = [str(v) for v in self._spec_values(table, details["spec"])]
        partition = self.catalog.get_partition(table, values)
        if partition is None:
            raise AthenaQueryError("PARTITION_NOT_FOUND", f"Partition not found: {details['spec']}")
        parse_s3_url(details["location"])
        raw = dict(partition.raw)
        descriptor = dict(raw.get("StorageDescriptor") or {}, Location=folder(details["location"]))
        self.catalog.glue.update_partition(
            DatabaseName=table.database, TableName=table.name, PartitionValueList=values,
            PartitionInput={"Values": values, "StorageDescriptor": descriptor,
                            "Parameters": raw.get("Parameters") or {}})
        return no_rows(statement)

    def msck(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self.table(ctx, statement.details["table"])
        if not table.partition_keys:
            return no_rows(statement)
        keys = [k.name for k in table.partition_keys]
        root = folder(table.location)
        bucket, prefix = parse_s3_url(root)
        found: dict[tuple[str, ...], str] = {}
        for obj in self.objects.list(root):
            relative = obj.key[len(prefix):].split("/")[:-1]
            if len(relative) < len(keys):
                continue
            values = []
            for key, part in zip(keys, relative, strict=False):
                name, _, value = part.partition("=")
                if name.lower() != key or not _:
                    break
                values.append(_unescape(value))
            else:
                found[tuple(values)] = f"s3://{bucket}/{prefix}" + "/".join(relative[:len(keys)]) + "/"
        existing = {tuple(p.values) for p in self.catalog.partitions(table)}
        missing = sorted(set(found) - existing)
        self.catalog.create_partitions(table, [(list(v), found[v]) for v in missing])
        specs = ["/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)) for values in missing]
        lines: list[list[str | None]] = []
        if specs:
            lines.append(["Partitions not in metastore:\t" + "\t".join(f"{table.name}:{s}" for s in specs)])
            lines += [[f"Repair: Added partition to metastore {table.name}:{s}"] for s in specs]
        return text_rows(["msck"], lines, statement) if lines else no_rows(statement)


def _unescape(value: str) -> str:
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)
