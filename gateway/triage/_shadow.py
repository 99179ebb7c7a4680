"""The few names the compiled triage modules take from ``cython``, for when Cython is not installed.

``matcher``, ``classifier``, ``scope`` and ``safety_net`` are compiled by Cython in pure-Python
mode when it is at hand (``setup.py``); there ``import cython`` is resolved by the compiler. As
plain Python they need this stand-in: the declarations do nothing, ``compiled`` is False.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

compiled = False

# C types named in ``@cython.locals``; as plain Python they are only placeholders
int = double = Py_ssize_t = Py_UCS4 = bint = object


def locals(**_types: Any) -> Callable[[Any], Any]:
    """``@cython.locals(name=type)``: types of local variables when compiled; nothing otherwise."""
    return lambda function: function
