"""Accounts: users and logging in.

- ``accounts``: argon2 password hashes, user administration, logging in.
- ``logins``: login sessions (one per browser login), ended by logout, a new password or
  disabling, and announced after commit so their sockets are closed.

Callers import the modules: ``from server.services.accounts import accounts``.
"""
