"""The columnar path: a book read into columns (polars) and checked by distinct shape through
the same engine, batch by batch, for books of millions of lines. `reading`: the book in
columns (CSV and Parquet); `checking`: the determination; `cells` and `writing`: the CSV,
byte for byte the row path's; `table`: the typed table written as Parquet. `tiergate check`
takes it for what it reads exactly as the row path does (tests compare the two).
"""
