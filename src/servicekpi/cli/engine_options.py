"""The --engine, --spark-master and --dataset options the query commands share (typer only: the
commands that import lazily import this at the top)."""
from __future__ import annotations

import typer

EngineOpt = typer.Option("duckdb", "--engine", help="duckdb (the store) or spark (a Parquet dataset from export)")
SparkMasterOpt = typer.Option("local[*]", "--spark-master",
                              help="with --engine spark: local[*], spark://host:7077 or sc://host:15002")
DatasetOpt = typer.Option(None, "--dataset", help="with --engine spark: the dataset written by "
                                                  "`export DIR --format parquet` (a path, or s3a://, abfs://, gs://)")

