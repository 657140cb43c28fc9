"""The minutes: drafted, finalised, signed.

- ``draft``: the sections drafted from the meeting's record.
- ``minutes``: editing, finalising to a PDF, blobs.
- ``signing``: PAdES signatures, chair then secretary; the last one seals the meeting.
- ``ca``: the deployment's certificate authority and users' signing certificates.
- ``trust``: the roots a signature must lead to (own CA, ``HEMICYCLE_TRUST_ROOTS``).
- ``verify``: checking signed minutes: trust, exactly the expected fields and order, the record.

Callers import the modules: ``from server.services.minutes import draft``.
"""
