"""Accounts: users and logging in.

- ``accounts``: argon2 password hashes, user administration, logging in and out.

Callers import the modules: ``from server.services.accounts import accounts``.
"""
