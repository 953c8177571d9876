"""``python -m sim`` is the ``adoptsim`` command."""

from sim.cli import app

app(prog_name="adoptsim")
