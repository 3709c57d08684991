"""`python -m tiergate` runs the CLI."""

from tiergate.cli import main

main()
