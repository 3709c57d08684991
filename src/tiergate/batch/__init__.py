"""The columnar path: a book read into columns (polars) and checked by distinct shape through
the same engine, for books of millions of lines (`reading`: the book in columns; `checking`:
the check and its CSV). `tiergate check` takes it for what it reads exactly as the row path
does, and the two give the same answers byte for byte (tests compare them on generated books).
"""
