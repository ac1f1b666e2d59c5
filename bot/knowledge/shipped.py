"""What ships with the bot: where its knowledge lies (the default of ``knowledge_dir``),
and whom the shipped guide addresses on Tchap.

The repository keeps the guide in ``knowledge/`` (YAML only). A wheel carries that
directory as ``bot/shipped_knowledge`` (``package-dir`` in pyproject.toml); a source tree
(the editable install of development, or ``PYTHONPATH=.``) has it beside ``bot/``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

INSTALLED_NAME = "shipped_knowledge"

# The shipped guide's audience on Tchap: the pôle ministériel's homeserver, which the CLI's
# ``--audience-server`` compares with (the bot reads its own ``audience.servers``).
POLE_SERVERS = ("agent.developpement-durable.tchap.gouv.fr",)


def shipped_knowledge_dir() -> Path:
    package = resources.files("bot")
    if not isinstance(package, Path):  # pip installs wheels unzipped: never a zip archive
        raise RuntimeError(f"tchap-bot must be installed as files, not in {package}")
    installed = package / INSTALLED_NAME
    if installed.is_dir():
        return installed
    # Not "import bot.shipped_knowledge" in a source tree: setuptools' editable finder
    # cannot import a data-only (namespace) package nested in the regular package bot.
    return package.parent / "knowledge"
