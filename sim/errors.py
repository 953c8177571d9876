"""The errors adoptsim reports to its users: one base class, one line each.

Every error caused by input (a scenario, a graph file, an option, a results folder) is an
:class:`AdoptsimError`.  The command line prints its message on one line and exits with
its ``exit_code``: 2 for input, 1 for a failure of the machine (a sweep worker killed or
out of memory); Python callers catch it like any exception.  The message names the file,
the field and what is allowed, or what to do next.
"""

from __future__ import annotations


class AdoptsimError(ValueError):
    """Bad input or a refused action; the message says what and what is allowed."""

    exit_code = 2
