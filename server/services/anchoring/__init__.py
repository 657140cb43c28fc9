"""The audit chain anchored outside the database.

- ``keys``: the server's audit key (a file in the data directory; a token later).
- ``tsa``: RFC 3161 timestamps from the configured TSA, and checking them.
- ``checkpoints``: signed checkpoints of the chain's head, appended to a file.
- ``packages``: the checkpoints in an archive package, and checking them there.
- ``chain``: ``hemicycle audit verify``: the database's chain against the checkpoints and
  the heads the signed minutes state.

Callers import the modules: ``from server.services.anchoring import checkpoints``.
"""
