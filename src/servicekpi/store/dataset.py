"""The store as a Parquet dataset other engines read (`servicekpi export DIR --format parquet`).

Layout under DIR (a path, or a URI pyarrow's file systems open: s3://, gs://, abfs://):
  <table>.parquet          canonical columns only: what `servicekpi import DIR` reads back
  engine/<table>/          every stored table with the derived facts the engine reads (message
                           counts, stored business seconds, replies, waits, import stamps),
                           optionally in hive partitions sk_month=YYYY-MM (UTC month of the row)
  engine/manifest.json     the manifest: tables, row counts, partitioning
Rows stream through Arrow record batches: no table is held whole in memory."""
from __future__ import annotations

import datetime as dt
import itertools
import json

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from servicekpi.core.errors import UsageError
from servicekpi.core.model import TABLES
from servicekpi.store.db import INTERNAL, quote

ENGINE_DIR = "engine"
MANIFEST = "engine/manifest.json"  # inside engine/: import reads only the top-level files
PARTITION_COLUMN = "sk_month"
PARTITIONS = ("month",)
SKIP = {"quarantine", "schema_version"}
# the instant a derived table's row belongs to (for month partitions)
DERIVED_TIME = {"replies": "sent_at", "waits": "start_at"}
BATCH_ROWS = 256_000


def _filesystem(target: str):
    if "://" in target:
        return pafs.FileSystem.from_uri(target)
    return pafs.LocalFileSystem(), str(target)


def stored_tables(con) -> list[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                       "AND database_name = current_database() AND NOT temporary ORDER BY table_name").fetchall()
    return [r[0] for r in rows if r[0] not in SKIP]


def _time_column(name: str) -> str | None:
    return TABLES[name].time if name in TABLES else DERIVED_TIME.get(name)


def export(con, target: str, partition_by: str | None = None) -> dict:
    """Write the dataset; returns the manifest written."""
    if partition_by is not None and partition_by not in PARTITIONS:
        raise UsageError(f"--partition-by '{partition_by}' is not one of: {', '.join(PARTITIONS)}")
    fs, root = _filesystem(target)
    fs.create_dir(root, recursive=True)
    tables = stored_tables(con)
    counts = {}
    for name in tables:
        counts[name] = con.execute(f"SELECT count(*) FROM {quote(name)}").fetchall()[0][0]
        time = _time_column(name)
        sql = f"SELECT * FROM {quote(name)}"
        parts = None
        if partition_by == "month" and time is not None and counts[name]:  # an empty table: one empty file
            sql = f"SELECT *, coalesce(strftime({quote(time)}, '%Y-%m'), 'none') AS {PARTITION_COLUMN} FROM {quote(name)}"
            parts = ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.string())]), flavor="hive")
        _write(con.sql(sql).to_arrow_reader(BATCH_ROWS), fs, f"{root}/{ENGINE_DIR}/{name}", parts)
        if name in TABLES:
            _canonical(con, name, fs, root)
    manifest = {"format": 1, "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "tables": tables, "rows": counts, "partition_by": partition_by}
    with fs.open_output_stream(f"{root}/{MANIFEST}") as f:
        f.write(json.dumps(manifest, indent=2).encode())
    return manifest


def _canonical(con, name: str, fs, root: str) -> None:
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND database_name = current_database() ORDER BY column_index", [name]).fetchall()]
    keep = [c for c in cols if c not in INTERNAL and not c.startswith("__")]
    reader = con.sql(f"SELECT {', '.join(quote(c) for c in keep)} FROM {quote(name)}").to_arrow_reader(BATCH_ROWS)
    # stored instants are naive UTC; written with their zone, so an import reads them as UTC
    schema = pa.schema([f.with_type(pa.timestamp(f.type.unit, "UTC")) if pa.types.is_timestamp(f.type) else f
                        for f in reader.schema])
    with pq.ParquetWriter(f"{root}/{name}.parquet", schema, filesystem=fs) as w:
        for batch in reader:
            w.write_batch(batch.cast(schema))


def _write(reader, fs, path: str, parts) -> None:
    """A dataset directory; a table without rows still gets one file, so readers learn its schema."""
    batches = iter(reader)
    first = next(batches, None)
    if first is None:
        fs.create_dir(path, recursive=True)
        pq.write_table(reader.schema.empty_table(), f"{path}/part-0.parquet", filesystem=fs)
        return
    reader = pa.RecordBatchReader.from_batches(reader.schema, itertools.chain([first], batches))
    ds.write_dataset(reader, path, filesystem=fs, format="parquet", partitioning=parts,
                     existing_data_behavior="delete_matching", max_rows_per_group=BATCH_ROWS,
                     basename_template="part-{i}.parquet")


def read_manifest(dataset: str, spark=None) -> dict:
    """The manifest of a dataset (local path or URI; a URI pyarrow cannot open is read by Spark)."""
    try:
        fs, root = _filesystem(dataset)
        with fs.open_input_stream(f"{root}/{MANIFEST}") as f:
            return json.loads(f.read())
    except (pa.ArrowException, OSError, ValueError) as e:
        if spark is None or "://" not in dataset:
            raise UsageError(f"--dataset {dataset}: cannot read {MANIFEST} ({e})") from None
    text = spark.read.text(f"{dataset}/{MANIFEST}", wholetext=True).collect()[0][0]
    return json.loads(text)

