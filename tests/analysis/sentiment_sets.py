"""The labelled sets (tests/analysis/sentiment/<lang>.tsv) and their scoring: accuracy and macro-F1
over positive/neutral/negative, where a prediction of 'unclassified' counts as 'neutral' (neither
positive nor negative); coverage is the share the classifier did classify."""
from __future__ import annotations

from pathlib import Path

SETS = Path(__file__).parent / "sentiment"
LABELS = ("positive", "neutral", "negative")


def load(lang: str) -> list[tuple[str, str]]:
    rows = []
    for line in (SETS / f"{lang}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


def score(gold: list[str], predicted: list[str]) -> dict:
    folded = ["neutral" if p == "unclassified" else p for p in predicted]
    f1s = []
    for c in LABELS:
        tp = sum(g == c and p == c for g, p in zip(gold, folded))
        fp = sum(g != c and p == c for g, p in zip(gold, folded))
        fn = sum(g == c and p != c for g, p in zip(gold, folded))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return {"n": len(gold), "accuracy": sum(g == p for g, p in zip(gold, folded)) / len(gold),
            "macro_f1": sum(f1s) / len(f1s),
            "coverage": sum(p != "unclassified" for p in predicted) / len(predicted)}
