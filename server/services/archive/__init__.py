"""Sealed meetings and their archive packages.

- ``package``: sealing a meeting, the BagIt package export.
- ``record``: the files of a package (minutes, documents, the record).
- ``verify``: checking a package years later, with nothing but the package.
- ``search``: full-text search over sealed meetings.
- ``demo_record``: a complete past meeting, signed and sealed, for the demo and tests.

Callers import the modules: ``from server.services.archive import package``.
"""
