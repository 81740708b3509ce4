"""The Spark backend: the same compiled Ibis expressions over a Parquet dataset (store/dataset.py)
read by a Spark session (local[*], a standalone spark:// cluster, or Spark Connect sc://).

What differs from DuckDB lives here: Arrow transfer on (without it a column with any null turned
to NaN), session time zone UTC (instants are naive UTC), a per-run warehouse directory (reuse
raises LOCATION_ALREADY_EXISTS), and unions aligned column by column (Spark has no UNION ALL BY
NAME). Medians and quantiles compile to Spark's exact percentile."""
from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import ibis
import pyarrow as pa

from servicekpi.core.errors import ServiceKpiError, UsageError
from servicekpi.store.dataset import ENGINE_DIR, MANIFEST, PARTITION_COLUMN, read_manifest

# Spark simple type -> the DuckDB type name the engine's schema code knows (relations.DIM_TYPES)
TYPES = {"string": "VARCHAR", "boolean": "BOOLEAN", "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT",
         "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "timestamp": "TIMESTAMP",
         "timestamp_ntz": "TIMESTAMP", "date": "DATE"}


class SparkUnavailable(ServiceKpiError):
    exit_code = 1
    http_status = 503


def session(master: str = "local[*]", conf: dict | None = None):
    """A Spark session configured for servicekpi (Connect for sc:// URLs)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable("--engine spark needs pyspark: pip install 'servicekpi[spark]'") from None
    settings = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    settings.update(conf or {})
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
        spark = builder.getOrCreate()
        for k, v in settings.items():  # Connect always transfers by Arrow; the UI is the server's
            if not k.startswith(("spark.ui", "spark.sql.execution.arrow.pyspark")):
                spark.conf.set(k, v)
        return spark
    # a Connect session earlier in this process leaves pyspark in Connect mode (this variable),
    # and a classic session could then not start (CONNECT_URL_NOT_SET)
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    warehouse = tempfile.mkdtemp(prefix="servicekpi-warehouse-")  # one per run, removed when it ends
    atexit.register(shutil.rmtree, warehouse, True)
    builder = SparkSession.builder.master(master).appName("servicekpi")
    for k, v in {**settings, "spark.sql.warehouse.dir": warehouse, "spark.driver.host": _driver_host(master),
                 "spark.driver.bindAddress": _driver_host(master)}.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _driver_host(master: str) -> str:
    """Loopback for local and loopback clusters; otherwise the machine's own name."""
    if master.startswith("local") or "127.0.0.1" in master or "localhost" in master:
        return "127.0.0.1"
    import socket
    return socket.gethostname()


class SparkBackend:
    dialect = "pyspark"

    def __init__(self, spark, dataset: str):
        self.spark = spark
        self.dataset = dataset.rstrip("/")
        self.ib = ibis.pyspark.connect(spark)
        self.manifest = read_manifest(self.dataset, spark)
        self._columns: list[tuple[str, str, str]] = []
        for name in self.manifest["tables"]:
            df = spark.read.parquet(f"{self.dataset}/{ENGINE_DIR}/{name}")
            if PARTITION_COLUMN in df.columns:
                df = df.drop(PARTITION_COLUMN)
            df.createOrReplaceTempView(name)
            self._columns += [(name, f.name, TYPES.get(f.dataType.simpleString(), f.dataType.simpleString().upper()))
                              for f in df.schema.fields]
        self.con = SqlCon(spark)

    def register(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table, schema=_schema(table)).createOrReplaceTempView(name)

    def page(self, sql: str, order: list[str], limit: int, offset: int) -> tuple[list[dict], int]:
        """A page of a statement's rows (ascending by `order`, nulls last) and how many it has."""
        total = self.spark.sql(f"SELECT count(*) AS n FROM ({sql})").collect()[0][0]
        by = ", ".join(f"`{c}` ASC NULLS LAST" for c in order)
        page = f"SELECT * FROM ({sql}) ORDER BY {by} LIMIT {int(limit)} OFFSET {int(offset)}"  # ints, not text
        return self.run(page), total

    def union(self, statements: list[str]) -> str:
        """UNION ALL with every statement's columns listed in one order, NULL where it has none."""
        schemas = [self.spark.sql(sql).schema for sql in statements]
        order: dict[str, str] = {}
        for schema in schemas:
            for f in schema.fields:
                order.setdefault(f.name, f.dataType.simpleString())
        parts = []
        for i, (sql, schema) in enumerate(zip(statements, schemas)):
            have = set(schema.fieldNames())
            cols = [f"`{c}`" if c in have else f"CAST(NULL AS {t}) AS `{c}`" for c, t in order.items()]
            parts.append(f"SELECT {i} AS __group, {', '.join(cols)} FROM ({sql}) AS g{i}")
        return " UNION ALL ".join(parts)

    def run(self, sql: str) -> list[dict]:
        table = self.spark.sql(sql).toArrow()
        for i, f in enumerate(table.schema):  # a Spark TIMESTAMP (with local time zone) read as naive UTC
            if pa.types.is_timestamp(f.type) and f.type.tz is not None:
                table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp(f.type.unit)))
        return table.to_pylist()

    def columns(self) -> list[tuple[str, str, str]]:
        return list(self._columns)

    def shape(self) -> tuple:
        """What compiled SQL depends on besides the query (Engine._sql_inputs)."""
        return (self.dataset, tuple(self._columns))


def _schema(table: pa.Table):
    """The Spark schema of an Arrow table (nullable fields; dates, naive timestamps)."""
    from pyspark.sql import types as T
    kinds = {pa.int64(): T.LongType(), pa.int32(): T.IntegerType(), pa.float64(): T.DoubleType(),
             pa.string(): T.StringType(), pa.large_string(): T.StringType(), pa.bool_(): T.BooleanType(),
             pa.date32(): T.DateType()}
    fields = []
    for f in table.schema:
        kind = T.TimestampNTZType() if pa.types.is_timestamp(f.type) else kinds.get(f.type)
        if kind is None:
            raise UsageError(f"per-query input {f.name}: Arrow type {f.type} has no Spark mapping here")
        fields.append(T.StructField(f.name, kind, True))
    return T.StructType(fields)


class SqlCon:
    """The few metadata statements the engine and reports run (min/max/count, the import stamps),
    on Spark: `?` placeholders bound as Spark parameters, never spliced in as text."""

    def __init__(self, spark):
        self.spark = spark

    def execute(self, sql: str, params=None):
        args = [_param(p) for p in params] if params else None
        return Rows(self.spark.sql(sql, args=args) if args else self.spark.sql(sql))


def _param(v):
    if isinstance(v, dt.datetime) and v.tzinfo is None:
        return v.replace(tzinfo=dt.timezone.utc)  # instants are naive UTC
    return v


class Rows:
    def __init__(self, df):
        self.table = df.toArrow()
        self.description = [(n,) for n in self.table.column_names]

    def fetchall(self) -> list[tuple]:
        cols = [c.to_pylist() for c in self.table.columns]
        return list(zip(*cols)) if cols else []


def open_dataset(master: str, dataset: str) -> SparkBackend:
    if not dataset:
        raise UsageError("--engine spark reads a Parquet dataset: give --dataset DIR-or-URI "
                         "(write one with: servicekpi export DIR --format parquet)")
    if "://" not in dataset and not (Path(dataset) / MANIFEST).exists():
        raise UsageError(f"--dataset {dataset}: no {MANIFEST} there "
                         "(write the dataset with: servicekpi export DIR --format parquet)")
    return SparkBackend(session(master), dataset)
