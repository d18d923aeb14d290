"""Edits of NB rows from plain functions, run inside one ovsdbapp transaction on the connection thread.

``Apply(api, fn)`` is an ovsdbapp command whose ``run_idl`` calls ``fn(writer)``; the writer only
writes columns whose value differs, and counts rows created, updated and deleted (what a resync
reports). Reads see the IDL cache as of the transaction, so a function is idempotent and safe to re-run
when ovsdbapp retries the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ovsdbapp.backend.ovs_idl import command, idlutils


def _norm(value: Any) -> Any:
    if hasattr(value, "uuid") and hasattr(value, "_table"):
        return str(value.uuid)
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return sorted((_norm(v) for v in value), key=repr)
    return value


INDEXED = frozenset({"Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port", "Port_Group"})
"""Tables ovsdbapp indexes by name (O(1) lookups)."""


class Writer:
    """``thorough``: check every reference (a resync pass) instead of trusting what the last push recorded."""

    def __init__(self, txn: Any, api: Any, thorough: bool = False):
        self.txn = txn
        self.api = api
        self.thorough = thorough
        self._new: set[Any] = set()
        self.created = self.updated = self.deleted = 0
        self._touched: set[Any] = set()
        self._names: dict[str, dict[str, Any]] = {}
        self._members: dict[tuple[Any, str], set[Any]] = {}

    def rows(self, table: str) -> list[Any]:
        return list(self.api.tables[table].rows.values())

    def named(self, table: str, name: str) -> Any | None:
        """The row of ``table`` called ``name``: ovsdbapp's index, plus the rows this transaction inserted."""
        if table in INDEXED:
            new = self._names.get(table, {}).get(name)
            if new is not None:
                return new
            # not api.lookup(): it takes a UUID-shaped name (our port names) for a row UUID
            return idlutils.row_by_value(self.api.idl, table, "name", name, default=None)
        index = self._names.get(table)
        if index is None:
            index = self._names[table] = {}
            for row in self.rows(table):
                index.setdefault(row.name, row)
        return index.get(name)

    def with_id(self, table: str, key: str, value: str) -> list[Any]:
        return [r for r in self.rows(table) if r.external_ids.get(key) == value]

    def insert(self, table: str, **columns: Any) -> Any:
        row = self.txn.insert(self.api.tables[table])
        self._new.add(row)
        self.created += 1
        for col, value in columns.items():
            setattr(row, col, value)
        if "name" in columns and (table in INDEXED or table in self._names):
            self._names.setdefault(table, {}).setdefault(columns["name"], row)
        return row

    def set(self, row: Any, **columns: Any) -> bool:
        """Write the columns that differ; True if any did."""
        if row in self._new:
            for col, value in columns.items():
                setattr(row, col, value)
            return True
        changed = False
        for col, value in columns.items():
            if _norm(getattr(row, col)) != _norm(value):
                setattr(row, col, value)
                changed = True
        if changed and row not in self._touched:
            self._touched.add(row)
            self.updated += 1
        return changed

    @staticmethod
    def get(row: Any, column: str, default: Any = ()) -> Any:
        """A column's value; ``default`` for a row inserted in this transaction that never had it set."""
        try:
            return getattr(row, column)
        except AttributeError:
            return default

    def members(self, parent: Any, column: str) -> set[Any]:
        """UUIDs referenced by ``parent.<column>``, read once per transaction (a switch may hold thousands)."""
        key = (parent.uuid, column)
        found = self._members.get(key)
        if found is None:
            found = self._members[key] = {child.uuid for child in self.get(parent, column)}
        return found

    def add_ref(self, parent: Any, column: str, child: Any, *, check: bool = True) -> None:
        """Reference ``child`` from ``parent.<column>``; ``check=False`` skips reading the column (the
        insert mutation is a no-op for a member already there)."""
        if child in self._new or not check:
            parent.addvalue(column, child)
            if (parent.uuid, column) in self._members:
                self._members[(parent.uuid, column)].add(child.uuid)
            return
        members = self.members(parent, column)
        if child.uuid not in members:
            parent.addvalue(column, child)
            members.add(child.uuid)
            if parent not in self._new and parent not in self._touched:
                self._touched.add(parent)
                self.updated += 1

    def remove_ref(self, parent: Any, column: str, child: Any, *, check: bool = True) -> None:
        if not check:
            parent.delvalue(column, child)
            if (parent.uuid, column) in self._members:
                self._members[(parent.uuid, column)].discard(child.uuid)
            return
        members = self.members(parent, column)
        if child.uuid in members:
            parent.delvalue(column, child)
            members.discard(child.uuid)

    def delete(self, row: Any) -> None:
        for index in self._names.values():
            for name, indexed in list(index.items()):
                if indexed is row:
                    del index[name]
        row.delete()
        self.deleted += 1

    def counts(self) -> tuple[int, int, int]:
        return self.created, self.updated, self.deleted


class Apply(command.BaseCommand):  # type: ignore[misc]
    """Run ``fns`` in order against one Writer; the result is the writer."""

    def __init__(self, api: Any, fns: Iterable[Callable[[Writer], Any]], thorough: bool = False):
        super().__init__(api)
        self.fns = list(fns)
        self.thorough = thorough

    def run_idl(self, txn: Any) -> None:
        writer = Writer(txn, self.api, self.thorough)
        for fn in self.fns:
            fn(writer)
        self.result = writer
