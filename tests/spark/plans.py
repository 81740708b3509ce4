"""The joins Spark plans without an equality key: a nested loop (BroadcastNestedLoopJoin) or a
cartesian product. Each is listed with the leaf scans of its two sides, so a caller can tell a
join against the query's periods (a local table of a few rows) from one whose two sides both grow
with the data (as the null-aware NOT IN of excluded tickets did: 26 minutes at 10M tickets).
Used by tests/engine/test_spark_local.py and bench/spark.py."""
from __future__ import annotations

LOOPS = ("BroadcastNestedLoopJoin", "CartesianProduct")


def _children(node) -> list:
    kids = node.children()
    return [kids.apply(i) for i in range(kids.size())]


def _leaves(node) -> list[str]:
    kids = _children(node)
    return [node.nodeName()] if not kids else [n for k in kids for n in _leaves(k)]


def loops(spark, sql: str) -> list[tuple[str, list[list[str]]]]:
    """(join, [leaf scans of each side]) for every keyless join in the plan of sql (planned, not run;
    the physical plan before adaptive execution)."""
    found: list[tuple[str, list[list[str]]]] = []

    def walk(node) -> None:
        kids = _children(node)
        if node.nodeName() in LOOPS:
            found.append((node.nodeName(), [_leaves(k) for k in kids]))
        for k in kids:
            walk(k)

    walk(spark.sql(sql)._jdf.queryExecution().sparkPlan())
    return found


def data_by_data(spark, sql: str) -> list[tuple[str, list[list[str]]]]:
    """The keyless joins where no side is made of local tables only (the periods, a query input):
    both sides read stored data."""
    return [(name, sides) for name, sides in loops(spark, sql)
            if not any(side and all(leaf == "LocalTableScan" for leaf in side) for side in sides)]
