"""The table export ordered by time in bounded memory: an external merge sort (sorted runs of SORT_RUN events,
spilled to temporary files in blocks of SPILL_BLOCK and merged with heapq.merge when there are several)."""
from __future__ import annotations

import heapq
import pickle
import tempfile
from pathlib import Path
from typing import Iterator

from servicekpi.connectors.asterisk.events import Event
from servicekpi.connectors.asterisk.table import _table_rows

# order of events logged in the same second (a table export may be sorted by time only)
RANK = {"ENTERQUEUE": 0, "RINGNOANSWER": 1, "CONNECT": 2}
SORT_RUN = 100_000  # table-export events sorted in memory at a time (more: merged from sorted temp files)
SPILL_BLOCK = 1_000  # events per block of a sorted run on disk (one block of each run is in memory)


def _table_events(path: Path, cols: dict | None = None) -> Iterator[Event]:
    """The DB export ordered by time (an export may be in any order; an unreadable time keeps its place after
    the previous event), in bounded memory: an external merge sort. Runs of SORT_RUN events are sorted in
    memory; when there is more than one, each goes to a temporary file and the files are merged."""
    def keyed() -> Iterator[tuple]:
        last_secs = float("-inf")
        for e in _table_rows(path, cols):
            last_secs = e.secs if e.secs is not None else last_secs
            yield (last_secs, RANK.get(e.event, 3), e.line), e  # lines are unique: a total order

    runs: list = []
    run: list[tuple] = []
    try:
        for item in keyed():
            run.append(item)
            if len(run) >= SORT_RUN:
                runs.append(_spill(sorted(run, key=_first)))
                run = []
        run.sort(key=_first)
        if not runs:
            yield from (e for _, e in run)
            return
        runs.append(_spill(run))
        run = []
        for _, e in heapq.merge(*(_unspill(f) for f in runs), key=_first):
            yield e
    finally:
        for f in runs:
            f.close()


def _first(item: tuple):
    return item[0]


def _spill(run: list[tuple]):
    """A sorted run written to an anonymous temporary file (deleted when closed), in blocks."""
    f = tempfile.TemporaryFile()
    for i in range(0, len(run), SPILL_BLOCK):
        pickle.dump(run[i:i + SPILL_BLOCK], f, protocol=pickle.HIGHEST_PROTOCOL)
    f.seek(0)
    return f


def _unspill(f) -> Iterator[tuple]:
    while True:
        try:
            block = pickle.load(f)
        except EOFError:
            return
        yield from block
