"""`--source csv --mapping FILE`: any CSV or XLSX export made into canonical tables by a mapping.

Modules, top-down: run (convert(): the files, the header checks, blocks through each table's Maker, the notes);
files (reading: the csv module, pyarrow blocks, XLSX); spec (the mapping file, checked); rows (the reference
row-by-row conversion: Maker, Row); vector, block and arrays (the default conversion by column); values
(parsing dates, durations, numbers, expressions).
"""
from servicekpi.connectors.csv_mapping.run import convert

__all__ = ["convert"]
