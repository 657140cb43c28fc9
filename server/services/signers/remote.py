"""Remote signing through the Cloud Signature Consortium API (CSC v1), pyHanko's CSC signer.

The deployment names the service (``HEMICYCLE_CSC_URL``, and ``HEMICYCLE_CSC_TOKEN``, the
OAuth bearer token its operator issues, if it asks for one); each user's credential is
registered with their certificate (``hemicycle ca register-csc USERNAME CREDENTIAL_ID``).
At signing time the passphrase the signer types is sent as the credential's PIN to
``credentials/authorize``, which answers the signature activation data for one signature.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from cryptography import x509

from server.errors import Conflict
from server.services.minutes.trust import outside_event_loop

PREFIX = "csc:"  # UserCertificate.keystore_path of a certificate whose key a CSC service holds


@dataclass(frozen=True)
class CSCSettings:
    url: str
    token: str | None = None

    @classmethod
    def from_config(cls, config) -> "CSCSettings | None":
        url = config.get("CSC_URL")
        return cls(url.rstrip("/"), config.get("CSC_TOKEN") or None) if url else None


def credential_of(row) -> str | None:
    path = row.keystore_path or ""
    return path[len(PREFIX):] if path.startswith(PREFIX) else None


def _session_info(settings: CSCSettings, credential_id: str):
    from pyhanko.sign.signers import csc_signer

    return csc_signer.CSCServiceSessionInfo(settings.url, credential_id,
                                            oauth_token=settings.token)


def _unavailable(exc: Exception) -> Conflict:
    return Conflict(f"The remote signing service refused or cannot be reached "
                    f"({type(exc).__name__}: {exc}).", code="remote_signing_unavailable")


@contextlib.asynccontextmanager
async def csc_signer(settings: CSCSettings, credential_id: str, pin: str = ""):
    """pyHanko's ``CSCSigner`` for one signature with the credential (in a running loop)."""
    import aiohttp
    from pyhanko.sign.signers import csc_signer as csc

    info = _session_info(settings, credential_id)
    async with aiohttp.ClientSession() as http:
        try:
            credential = await csc.fetch_certs_in_csc_credential(http, info)
            body = {"credentialID": credential_id, "numSignatures": 1}
            if pin:
                body["PIN"] = pin
            async with http.post(info.endpoint_url("credentials/authorize"), json=body,
                                 headers=info.auth_headers, raise_for_status=True) as answer:
                sad = (await answer.json())["SAD"]
        except (aiohttp.ClientError, KeyError, ValueError, OSError) as exc:
            raise _unavailable(exc) from None
        except Exception as exc:  # pyHanko wraps the service's errors in SigningError
            raise _unavailable(exc) from None
        auth = csc.PrefetchedSADAuthorizationManager(info, credential,
                                                     csc.CSCAuthorizationInfo(sad=sad))
        yield csc.CSCSigner(http, auth_manager=auth)


@outside_event_loop
def credential_certificates(settings: CSCSettings, credential_id: str):
    """The credential's certificate and chain, as the service states them."""
    import asyncio

    import aiohttp
    from pyhanko.sign.signers import csc_signer as csc

    async def run():
        async with aiohttp.ClientSession() as http:
            return await csc.fetch_certs_in_csc_credential(
                http, _session_info(settings, credential_id))

    try:
        credential = asyncio.run(run())
    except Exception as exc:
        raise _unavailable(exc) from None
    load = x509.load_der_x509_certificate
    chain = [load(c.dump()) for c in credential.chain]
    return load(credential.signing_cert.dump()), chain
