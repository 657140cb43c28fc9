"""Renewing the archive timestamp of signed minutes (PAdES B-LTA), before its TSA's
certificate expires.

``retimestamp_pdf`` appends to the file, as incremental updates that leave every signature
intact: the validation data of the last document timestamp (its TSA's chain, OCSP responses
and CRLs, in the DSS) and a new document timestamp over it all, from the configured TSA.
``retimestamp_package`` does it to the signed minutes inside an archive package (a .zip or a
bag directory) and rewrites the bag's manifests, so ``archive verify`` still passes.
"""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import bagit

from server.errors import Conflict
from server.services.longterm import options
from server.services.minutes.trust import outside_event_loop

SIGNED_PDF = Path("data") / "minutes" / "minutes-signed.pdf"


def last_timestamp_expiry(pdf: bytes) -> datetime | None:
    """When the certificate of the file's last document timestamp expires (None: none)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    stamps = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_timestamp_signatures
    if not stamps:
        return None
    return stamps[-1].signer_cert["tbs_certificate"]["validity"]["not_after"].native


@outside_event_loop
def retimestamp_pdf(pdf: bytes, roots) -> bytes:
    """The file with a DSS update for its last timestamp and a new document timestamp."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper

    stamper = options.timestamper()
    if stamper is None:
        raise Conflict("No timestamp authority is configured (HEMICYCLE_TSA_URL).",
                       code="no_tsa")
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    if not reader.embedded_timestamp_signatures:
        raise Conflict("These minutes carry no document timestamp (they are not PAdES "
                       "B-LTA); they cannot be re-timestamped.", code="not_lta")
    context = options.signing_context(roots, [])
    out = PdfTimeStamper(stamper).update_archival_timestamp_chain(
        reader, context, in_place=False)
    return out.getvalue()


def _rewrite_bag(bag_dir: Path, roots) -> list[str]:
    pdf_path = bag_dir / SIGNED_PDF
    if not pdf_path.is_file():
        raise Conflict("The package holds no signed minutes.", code="not_signed")
    pdf_path.write_bytes(retimestamp_pdf(pdf_path.read_bytes(), roots))
    bag = bagit.Bag(str(bag_dir))
    bag.save(manifests=True)  # new sha256 of the PDF, Payload-Oxum, tag manifest
    touched = [SIGNED_PDF.as_posix(), *sorted(
        p.name for p in bag_dir.iterdir()
        if p.name.startswith(("manifest-", "tagmanifest-")) or p.name == "bag-info.txt")]
    return touched


def retimestamp_package(path: Path, roots) -> list[str]:
    """Re-timestamp the signed minutes in a package; the files touched (paths in the bag)."""
    path = Path(path)
    if path.is_dir():
        return _rewrite_bag(path, roots)
    with tempfile.TemporaryDirectory(prefix="hemicycle-retimestamp-") as tmp:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            for name in names:
                if not (Path(tmp) / name).resolve().is_relative_to(Path(tmp).resolve()):
                    raise Conflict(f"unsafe path in the package: {name}", code="bad_package")
            archive.extractall(tmp)
        tops = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(tops) != 1:
            raise Conflict("The package must hold exactly one bag directory.",
                           code="bad_package")
        touched = _rewrite_bag(tops[0], roots)
        written = path.with_suffix(".tmp")
        with zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(tops[0].rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(Path(tmp)).as_posix())
        shutil.move(written, path)
    return [f"{path.name}:{tops[0].name}/{name}" for name in touched]

