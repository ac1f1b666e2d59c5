"""The Matrix transport: sync, encryption, rooms, replies. The only package importing nio.

Data flows one way: sync response -> ``callbacks.Router`` (filters, mentions) -> the pure
core -> ``sender.Sender`` (one queue) -> homeserver. ``main.run`` wires it all.
"""
