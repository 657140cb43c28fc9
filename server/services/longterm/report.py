"""What a signed file carries for the long term, read without any network.

* ``level``: PAdES B-B (signed attributes only), B-T (an RFC 3161 timestamp on the
  signature), B-LT (a document security store after it holding the chains and revocation
  data), B-LTA (a document timestamp after that, over it all).
* ``timestamp_time``: when the TSA says the signature existed (the token's genTime).
* ``revocation_status``: what the OCSP responses and CRLs in the file say of a certificate.
* ``offline_context``: a pyHanko ValidationContext from the file's DSS and the signatures'
  own certificates, with fetching off, at a chosen moment: what ``archive verify`` and
  ``minutes verify`` validate with, so a check years later, with the CA's services gone and
  the signers' certificates expired, rests on what the file holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from server.sentences import Sentence


@dataclass
class Carried:
    """The validation data in a file's DSS (asn1crypto objects)."""
    certs: list = field(default_factory=list)
    ocsps: list = field(default_factory=list)
    crls: list = field(default_factory=list)


def carried(reader) -> Carried:
    from asn1crypto import crl as asn1_crl, ocsp as asn1_ocsp
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return Carried()
    return Carried(
        list(dss.load_certs()),
        [asn1_ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
         for ref in dss.ocsps],
        [asn1_crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL))
         for ref in dss.crls])


def offline_context(roots, data: Carried, moment: datetime, extra_certs=(), *, hard: bool):
    """Validation with nothing but ``roots`` and what the file carries, at ``moment``."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=roots, other_certs=data.certs + list(extra_certs),
                             ocsps=data.ocsps, crls=data.crls, moment=moment,
                             allow_fetching=False,
                             revocation_mode="hard-fail" if hard else "soft-fail")


def _token(embedded):
    attrs = embedded.signer_info["unsigned_attrs"]
    if not attrs or attrs.native is None:
        return None
    for attr in attrs:
        if attr["type"].native == "signature_time_stamp_token":
            return attr["values"][0]
    return None


def timestamp_time(embedded) -> datetime | None:
    """The genTime of the signature's timestamp token, or None (no token)."""
    token = _token(embedded)
    if token is None:
        return None
    return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native


def dss_revision(reader) -> int | None:
    """The first revision whose catalogue has a DSS, or None."""
    for revision in range(reader.xrefs.total_revisions):
        if "/DSS" in reader.get_historical_root(revision):
            return revision
    return None


def level(embedded, reader, timestamps) -> str:
    """The PAdES level the file gives this signature (by what it holds; validity apart)."""
    if timestamp_time(embedded) is None:
        return "B-B"
    first_dss = dss_revision(reader)
    if first_dss is None or first_dss < embedded.signed_revision:
        dss_after = any("/DSS" in reader.get_historical_root(r)
                        for r in range(embedded.signed_revision + 1,
                                       reader.xrefs.total_revisions))
    else:
        dss_after = True
    if not dss_after:
        return "B-T"
    if any(t.signed_revision > embedded.signed_revision for t in timestamps):
        return "B-LTA"
    return "B-LT"


def _serial(cert) -> int:
    return cert["tbs_certificate"]["serial_number"].native


def revocation_status(cert, data: Carried) -> str:
    """What the file's OCSP responses, then CRLs, say of ``cert``: 'good (OCSP, ...)',
    'revoked ...', 'not revoked (CRL ...)', or that it carries nothing about it."""
    if cert is None:
        return Sentence("unknown")
    serial = _serial(cert)
    for response in data.ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            tbs = basic["tbs_response_data"]
        except (KeyError, ValueError, TypeError):
            continue
        for single in tbs["responses"]:
            if single["cert_id"]["serial_number"].native != serial:
                continue
            status = single["cert_status"].name
            produced = tbs["produced_at"].native
            if status == "revoked":
                revoked = single["cert_status"].chosen["revocation_time"].native
                return Sentence("revoked on %(when)s UTC (OCSP)", when=f"{revoked:%Y-%m-%d %H:%M}")
            if status == "good":
                return Sentence("good (OCSP response of %(when)s UTC)",
                                when=f"{produced:%Y-%m-%d %H:%M}")
            return Sentence("unknown to the CA (OCSP response of %(when)s UTC)",
                            when=f"{produced:%Y-%m-%d %H:%M}")
    issuer = cert.issuer
    for crl in data.crls:
        tbs = crl["tbs_cert_list"]
        if tbs["issuer"] != issuer:
            continue
        for entry in tbs["revoked_certificates"]:
            if entry["user_certificate"].native == serial:
                when = entry["revocation_date"].native
                return Sentence("revoked on %(when)s UTC (CRL)", when=f"{when:%Y-%m-%d %H:%M}")
        return Sentence("not revoked (CRL of %(when)s UTC)",
                        when=f"{tbs['this_update'].native:%Y-%m-%d %H:%M}")
    return Sentence("no revocation data in the file")


def timestamp_time_of_document(embedded) -> datetime:
    """The genTime of a document timestamp."""
    content = embedded.signed_data["encap_content_info"]["content"]
    return content.parsed["gen_time"].native
