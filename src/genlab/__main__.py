"""``python -m genlab``: the command line."""

from .cli import app

app(prog_name="genlab")
