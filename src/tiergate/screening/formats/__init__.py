"""One module per list format tiergate reads (`screening.readers` picks one for a file)."""
