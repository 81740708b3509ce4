"""Benchmark: sentiment at import (issue 16 item 3: "classification at import must not make imports
slow"). Not a test: it prints figures and asserts nothing about time.

    nice .venv/bin/python bench/sentiment.py [--n 100000]

Texts: the labelled comments of tests/analysis/sentiment/*.tsv (a quarter per language), each made
unique by an order number so that the text-hash cache does not help ("... (order 123456)").
Prints: texts per second of classify() per language; then an import of n feedback rows into a fresh
store (servicekpi.ingest.load.run) with and without the sentiment refresh, and a re-import of the same
file (nothing to classify), in seconds.
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))

from sentiment_sets import load  # noqa: E402

from servicekpi.core.sentiment import classify  # noqa: E402
from servicekpi.ingest import load as loader  # noqa: E402
from servicekpi.store import db as store  # noqa: E402
from servicekpi.store import sentiment as sentiment_store  # noqa: E402

LANGS = ("en", "ro", "zh", "th")


def texts(n: int) -> list[tuple[str, str]]:
    base = {lang: [t for _, t in load(lang)] for lang in LANGS}
    out = []
    for i in range(n):
        lang = LANGS[i % 4]
        pool = base[lang]
        out.append((lang, f"{pool[(i // 4) % len(pool)]} (order {100000 + i})"))
    return out


def per_language(sample: list[tuple[str, str]]) -> None:
    for lang in LANGS:
        mine = [t for lg, t in sample if lg == lang]
        classify(mine[0])  # load the lexicon / analyzer / tokenizer first
        t0 = time.perf_counter()
        for t in mine:
            classify(t)
        dt = time.perf_counter() - t0
        print(f"classify {lang}: {len(mine)} texts in {dt:.2f} s = {len(mine) / dt:,.0f} texts/s")


def imports(sample: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feedback.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["feedback_id", "received_at", "source", "text"])
            for i, (_, text) in enumerate(sample):
                w.writerow([f"F{i}", f"2026-10-{1 + i % 28:02d}T10:00:00Z", "review", text])
        for label, hook in (("without sentiment", False), ("with sentiment", True)):
            con = store.connect(Path(tmp) / f"{label}.duckdb")
            saved = sentiment_store.needs_refresh
            if not hook:
                sentiment_store.needs_refresh = lambda con, touched: False
            t0 = time.perf_counter()
            loader.run(con, path)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            loader.run(con, path)
            again = time.perf_counter() - t0
            sentiment_store.needs_refresh = saved
            n = con.execute("SELECT count(*) FROM text_sentiment").fetchall()[0][0] if hook else 0
            print(f"import {len(sample)} feedback rows {label}: {first:.2f} s; re-import unchanged: {again:.2f} s"
                  + (f"; {n} verdicts stored" if hook else ""))
            con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    n = ap.parse_args().n
    sample = texts(n)
    per_language(sample)
    imports(sample)


if __name__ == "__main__":
    main()
