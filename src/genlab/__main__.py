"""``python -m genlab``: the command line."""

from .cli import main

main()
