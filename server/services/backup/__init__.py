"""Backups of a whole deployment, taken while it serves, and their restore.

- ``database``: a consistent snapshot of the database (SQLite's online backup API,
  ``pg_dump``), and putting one back into an empty database.
- ``container``: the backup file: a tar.gz with a manifest of checksums, optionally
  encrypted with a passphrase (age, through pyrage).
- ``create``: what goes into a backup (database first, then the data directory).
- ``restore``: verifying a backup and restoring it into an empty data directory and database.
- ``prune``: keeping the last backups of a directory and removing older ones.

No Flask here: ``backup restore`` runs before there is anything to build an app on.
"""
