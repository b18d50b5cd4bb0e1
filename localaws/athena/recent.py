"""The results of the latest queries in memory, for GetQueryResults: a client pages a result right after
the query succeeds, and then needs no read of the Arrow file the executor also wrote (which stays the
source for older results, and after a restart). Bounded by bytes, the least recently used out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import pyarrow as pa

MAX_BYTES = 64 * 1024 * 1024


class RecentResults:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, query_id: str, text: pa.Table) -> None:
        size = text.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._tables.pop(query_id, None)
            if previous is not None:
                self._bytes -= previous.nbytes
            self._tables[query_id] = text
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._tables.popitem(last=False)
                self._bytes -= dropped.nbytes

    def get(self, query_id: str) -> pa.Table | None:
        with self._lock:
            text = self._tables.get(query_id)
            if text is not None:
                self._tables.move_to_end(query_id)
            return text
