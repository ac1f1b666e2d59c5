"""tchap-bot: tells state agents, in Tchap, which digital tool to use."""

__version__ = "0.1.0"
