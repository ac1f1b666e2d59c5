"""Operations: hot reload, metrics, health endpoints, the SQLite store and admin commands.

None of it imports the Matrix transport: the bot wires these objects in (see each module).
"""
