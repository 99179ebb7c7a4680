"""The few names the compiled triage modules take from ``cython``, for when Cython is not installed.

``matcher``, ``classifier``, ``scope``, ``safety_net`` and ``gram_table`` are compiled by Cython
in pure-Python mode when it is at hand (``setup.py``); there ``import cython`` is resolved by the
compiler. As plain Python they need this stand-in: the declarations do nothing, ``compiled`` is
False.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

compiled = False


class _CType:
    """A C type named in ``@cython.locals``; ``int[:]`` (a memoryview type) is one too, and
    ``int[8]`` a C array type."""

    def __init__(self, size: Any = None):
        self.size = size

    def __getitem__(self, dims: Any) -> _CType:
        return _CType(dims) if isinstance(dims, builtins.int) else self


int = double = longlong = ulonglong = Py_ssize_t = Py_UCS4 = bint = _CType()


def locals(**_types: Any) -> Callable[[Any], Any]:
    """``@cython.locals(name=type)``: types of local variables when compiled; nothing otherwise."""
    return lambda function: function


def declare(ctype: Any, value: Any = None, **_visibility: Any) -> Any:
    """``cython.declare(type, value)``: a typed variable when compiled; the value otherwise (a
    list of zeros for a C array)."""
    if isinstance(ctype, _CType) and ctype.size is not None:
        return [0] * ctype.size
    return value


def cast(_type: Any, value: Any) -> Any:
    return value


def cclass(cls: Any) -> Any:
    """``@cython.cclass``: an extension type when compiled; a plain class otherwise."""
    return cls


def boundscheck(_flag: bool) -> Callable[[Any], Any]:
    """``@cython.boundscheck(False)`` and ``@cython.wraparound(False)``: compiler directives."""
    return lambda function: function


wraparound = boundscheck


def cfunc(function: Any) -> Any:
    """``@cython.cfunc`` and ``@cython.inline``: a C function when compiled; a method otherwise."""
    return function


inline = cfunc


def returns(_type: Any) -> Callable[[Any], Any]:
    """``@cython.returns(type)``: the C return type of a ``cfunc``."""
    return lambda function: function


def exceptval(*_value: Any, check: bool = True) -> Callable[[Any], Any]:
    """``@cython.exceptval(check=False)``: a ``cfunc`` that never raises (no check after a call)."""
    return lambda function: function
