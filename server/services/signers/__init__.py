"""Who holds the key: the ways a signature value on the minutes is produced.

- ``backends``: each yields a pyHanko ``Signer``: a PKCS#12 the server keeps
  (``pkcs12_signer``), a key on a token plugged into the server (``server_token_signer``,
  settings ``HEMICYCLE_PKCS11_*``), and the certificate a signer's own token signs for
  (``external_signer``, used by the sessions).
- ``remote``: a key a Cloud Signature Consortium service holds (``csc_signer``: pyHanko's
  ``CSCSigner``; settings ``HEMICYCLE_CSC_URL``/``HEMICYCLE_CSC_TOKEN``, the credential per
  user).
- ``sessions``: interrupted signing for a key the server never sees: ``open_session``
  (one-time code for the signer), ``present_certificate`` (the server prepares the
  revision and hands out the signed attributes), ``finish_session`` (the signature value
  is checked and embedded, or refused and nothing changes).
- ``agent``: the ``hemicycle-sign`` program on the signer's computer (PKCS#11 token).

Callers import the modules: ``from server.services.signers import sessions``.
"""
