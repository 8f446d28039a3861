"""The `dondoc` commands an operator runs, one module per family; `bot/cli.py` parses."""
