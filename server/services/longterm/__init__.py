"""Signatures on the minutes that can still be checked in decades (PAdES B-T, B-LT, B-LTA).

- ``options``: ``signature_options`` — the timestamper (``HEMICYCLE_TSA_URL``, or the
  demo's own), the revocation data to embed, the document timestamp after the last signature.
- ``report``: per signature, its level, the time its timestamp states, the revocation status
  the file carries; the offline validation context built from the file's DSS.
- ``retimestamp``: a new document timestamp over an archived file (and its package).
- ``demo_tsa``: the demo CA's timestamp certificate.
"""
from server.services.longterm.options import (
    SignatureOptions, service_errors, signature_options, signing_context, timestamper)

__all__ = ["SignatureOptions", "service_errors", "signature_options", "signing_context",
           "timestamper"]
