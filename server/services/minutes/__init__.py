"""The minutes: drafted, finalised, signed.

- ``draft``: the sections drafted from the meeting's record.
- ``minutes``: editing, finalising to a PDF, blobs.
- ``signing``: PAdES signatures, chair then secretary; the last one seals the meeting.
- ``ca``: the deployment's certificate authority and users' signing certificates.

Callers import the modules: ``from server.services.minutes import draft``.
"""
