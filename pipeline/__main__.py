"""`python -m pipeline` runs the orient command line."""

from pipeline.cli import run

run()
