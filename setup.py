"""Optional compiled hot path of triage (docs/triage.md, Speed).

The modules in ``COMPILED`` stay plain Python source; when Cython and a C compiler are at hand
they are also compiled (Cython's pure-Python mode) and the extension modules, built next to the
sources, shadow them on import. Without Cython, without a compiler, or with
``LINKAGE_PURE_PYTHON=1`` set at install time, nothing is compiled and the same ``.py`` files run,
giving the same results. Everything else about the package is in ``pyproject.toml``.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED = [
    "gateway/triage/matcher.py",
    "gateway/triage/classifier.py",
    "gateway/triage/scope.py",
    "gateway/triage/safety_net.py",
    "gateway/triage/gram_table.py",
    "gateway/triage/automaton.py",
    "gateway/triage/naive_bayes.py",
    "gateway/triage/second_opinion.py",
    "gateway/triage/normalise.py",
    "gateway/triage/result.py",
]


def _warn(message: str) -> None:
    print(f"linkage-gateway: {message}; the triage modules run as plain Python", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext that leaves a module as plain Python when it cannot be compiled."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers, ...
            _warn(f"compiling failed ({exc})")

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"compiling {ext.name} failed ({exc})")
            # an extension left from an earlier build would shadow the source it no longer matches
            stale = self.get_ext_fullpath(ext.name)
            if os.path.exists(stale):
                os.remove(stale)


def _extensions() -> list:
    if os.environ.get("LINKAGE_PURE_PYTHON"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _warn("Cython is not installed")
        return []
    try:
        # annotation_typing off: annotations stay hints as in plain Python (Cython would otherwise
        # refuse subclasses of list, dict, str ... and turn an int passed as float into a float);
        # C types are declared with @cython.locals where they help
        directives = {"language_level": 3, "annotation_typing": False}
        return cythonize(COMPILED, quiet=True, compiler_directives=directives)
    except Exception as exc:
        _warn(f"cythonize failed ({exc})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
