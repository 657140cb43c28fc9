"""The backup file: a tar.gz with ``manifest.json`` last, optionally encrypted.

Plain, it is an ordinary ``.tar.gz`` (``tar tzf`` lists it). Encrypted, it is

    HEMICYCLE-BACKUP age v1\\n
    <a fresh age X25519 identity, encrypted with the passphrase (scrypt), ASCII-armoured>
    <the tar.gz, encrypted to that identity: age's binary format>

age (https://age-encryption.org, through pyrage) does the cryptography: scrypt for the
passphrase, ChaCha20-Poly1305 in 64 KiB authenticated chunks for the data, so a backup of
any size is encrypted and checked as a stream. The passphrase decrypts the small identity
only; the two parts are standard age files: cut at the armour's end line, the age command
line tool decrypts them too (``age -d -i key.age data.age``; docs/OPERATIONS.md).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from pathlib import Path

from server.services.backup.database import BackupError, BadBackup

MAGIC = b"HEMICYCLE-BACKUP age v1\n"
ARMOR_END = b"-----END AGE ENCRYPTED FILE-----\n"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


class _Hashing(io.RawIOBase):
    """Reads through to a file and hashes what tar takes from it."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        return data


class Writer:
    """Collects members into a temporary tar.gz beside ``out``; ``finish`` writes the
    manifest, encrypts if asked and renames into place, so ``out`` is whole or absent."""

    def __init__(self, out: Path, passphrase: str | None):
        self.out, self.passphrase = Path(out), passphrase
        self.out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.out.parent, prefix=f".{self.out.name}.", suffix=".tmp")
        self.tmp = Path(name)
        self.handle = os.fdopen(fd, "wb")
        self.tar = tarfile.open(fileobj=self.handle, mode="w:gz", compresslevel=6)
        self.files: list[dict] = []

    def _info(self, name: str, size: int, mode: int = 0o600) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, mode, int(time.time())
        return info

    def add_file(self, name: str, path: Path) -> None:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            reader = _Hashing(handle)
            self.tar.addfile(self._info(name, size, os.stat(path).st_mode & 0o777), reader)
        self.files.append({"path": name, "size": size, "sha256": reader.digest.hexdigest()})

    def add_bytes(self, name: str, data: bytes) -> None:
        self.tar.addfile(self._info(name, len(data)), io.BytesIO(data))
        self.files.append({"path": name, "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()})

    def finish(self, manifest: dict) -> dict:
        manifest = {**manifest, "files": self.files}
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        self.tar.addfile(self._info(MANIFEST, len(data)), io.BytesIO(data))
        self.tar.close()
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        if self.passphrase:
            self._encrypt()
        os.replace(self.tmp, self.out)
        return manifest

    def _encrypt(self) -> None:
        import pyrage
        from pyrage import passphrase, x25519

        identity = x25519.Identity.generate()
        sealed = self.tmp.with_suffix(".age")
        try:
            with open(self.tmp, "rb") as source, open(sealed, "wb") as target:
                target.write(MAGIC)
                target.write(passphrase.encrypt(str(identity).encode(), self.passphrase,
                                                armored=True))
                pyrage.encrypt_io(source, target, [identity.to_public()])
                target.flush()
                os.fsync(target.fileno())
            os.replace(sealed, self.tmp)
        finally:
            sealed.unlink(missing_ok=True)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.tar.close()
        with contextlib.suppress(Exception):
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(len(MAGIC))
    if head == MAGIC:
        return True
    if head[:2] == b"\x1f\x8b":
        return False
    raise BadBackup(f"{path} is not a Hemicycle backup")


def _decrypt(path: Path, passphrase: str, target: Path) -> None:
    import pyrage
    from pyrage import x25519

    with open(path, "rb") as handle:
        handle.read(len(MAGIC))
        armored = b""
        while not armored.endswith(ARMOR_END):
            line = handle.readline()
            if not line or len(armored) > 64 * 1024:
                raise BadBackup("the encrypted backup's key block is damaged")
            armored += line
        try:
            key = pyrage.passphrase.decrypt(armored, passphrase)
        except pyrage.DecryptError as error:
            raise BadBackup("wrong passphrase (or a damaged key block)") from error
        identity = x25519.Identity.from_str(key.decode())
        with open(target, "wb") as out:
            try:
                pyrage.decrypt_io(handle, out, [identity])
            except pyrage.DecryptError as error:
                raise BadBackup("the encrypted backup is damaged: it fails its "
                                "authentication") from error


@contextlib.contextmanager
def opened(path: Path, passphrase: str | None, workdir: Path):
    """The backup's tar, decrypted into ``workdir`` first when it is encrypted."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    plain = path
    if is_encrypted(path):
        if not passphrase:
            raise BadBackup("this backup is encrypted: give --passphrase-file")
        plain = workdir / "backup.tar.gz"
        _decrypt(path, passphrase, plain)
    try:
        with tarfile.open(plain, mode="r:gz") as tar:
            yield tar
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BadBackup(f"the backup archive is damaged: {error}") from error


def read_passphrase(path: Path | None) -> str | None:
    """The first line of a passphrase file (so a trailing newline does not count)."""
    if path is None:
        return None
    value = Path(path).read_text(encoding="utf-8").splitlines()
    if not value or not value[0]:
        raise BackupError(f"the passphrase file {path} is empty")
    return value[0]


def copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target) -> str:
    """Copy a member's bytes to an open file; returns their sha256."""
    source = tar.extractfile(member)
    if source is None:
        raise BadBackup(f"{member.name} is not a regular file")
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest()
