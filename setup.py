"""The wheel's one build option: with TCHAP_BOT_COMPILE=1, the pure core (bot/core) is
compiled to C extensions by mypyc, from the same typed sources; everything else is in
pyproject.toml.

The compiled core answers byte for byte what the Python one does (`make wheel-check`
compares every reply of every evaluation set) and faster (BENCHMARKS.md). It is opt-in,
so that an editable install never puts extensions beside the sources, where they would
shadow the next edit, and a host without a C compiler still builds the pure wheel;
`make wheel` builds the compiled one.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup


def core_extensions() -> list[object]:
    if os.environ.get("TCHAP_BOT_COMPILE") != "1":
        return []
    from mypyc.build import mypycify  # a build requirement (pyproject.toml)

    # -O1: within 1.5 % of -O3 in instructions per answer (callgrind), and builds faster.
    sources = sorted(str(p) for p in Path("bot/core").glob("*.py"))
    return list(mypycify(sources, opt_level="1"))


setup(ext_modules=core_extensions())
