"""tchap-bot: tells state agents, in Tchap, which digital tool to use."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml, and read from the installed metadata.
    # Lazily: importlib.metadata costs ~30 ms that `tchap-bot ask` need not pay.
    if name != "__version__":
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("tchap-bot")
    except PackageNotFoundError:  # a source tree run without installing (PYTHONPATH=.)
        found = "0+unknown"
    globals()["__version__"] = found
    return found
