"""Checking a backup, and restoring it into an empty data directory and database.

``verify`` reads every member, recomputes its sha256 against the manifest and asks the
database's own tool to read the snapshot. ``restore`` does the same while it unpacks into
a staging directory beside the target, and only when everything checks out loads the
database and moves the files into place: a damaged backup leaves the target as it was.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from server.services.backup import container, database
from server.services.backup.database import BadBackup, TargetNotEmpty

TOP_FILES = {"settings.json", container.MANIFEST}


@dataclass
class Checked:
    manifest: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    database_file: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (path.is_absolute() or ".." in path.parts or not path.parts
            or (path.parts[0] not in ("data", "database") and name not in TOP_FILES)):
        raise BadBackup(f"the backup holds an unexpected member: {name!r}")
    return path


def _read(path: Path, passphrase: str | None, work: Path, staging: Path | None) -> Checked:
    """One pass over the archive: digests, and the files copied under ``staging`` if given."""
    checked, seen = Checked(), {}
    with container.opened(path, passphrase, work) as tar:
        for member in tar:
            name = _safe_name(member.name)
            if not member.isfile():
                raise BadBackup(f"the backup holds a member that is not a file: {member.name}")
            if member.name == container.MANIFEST:
                try:
                    checked.manifest = json.loads(tar.extractfile(member).read())
                except ValueError as error:
                    raise BadBackup("the manifest is not valid JSON") from error
                continue
            target = None
            if name.parts[0] == "database":
                target = work / "database.snapshot"
                checked.database_file = target
            elif staging is not None and name.parts[0] == "data":
                target = staging.joinpath(*name.parts)
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as handle:
                    seen[member.name] = container.copy_member(tar, member, handle)
                target.chmod(member.mode & 0o700 or 0o600)
            else:
                seen[member.name] = container.copy_member(tar, member, None)
    manifest = checked.manifest
    if not manifest:
        raise BadBackup("the backup has no manifest: it is cut short or not a Hemicycle backup")
    if manifest.get("format") != 1:
        raise BadBackup(f"backup format {manifest.get('format')!r} is not one this version reads")
    listed = {entry["path"]: entry["sha256"] for entry in manifest.get("files", [])}
    for name, digest in listed.items():
        if name not in seen:
            checked.problems.append(f"{name}: listed in the manifest, missing from the backup")
        elif seen[name] != digest:
            checked.problems.append(f"{name}: checksum does not match the manifest")
    checked.problems += [f"{name}: in the backup, not in the manifest"
                         for name in seen if name not in listed]
    if checked.database_file is None:
        checked.problems.append("the backup holds no database snapshot")
    elif not checked.problems:
        database.check_snapshot(manifest["database"]["kind"], checked.database_file)
    return checked


def verify(path: Path, passphrase: str | None = None) -> Checked:
    with tempfile.TemporaryDirectory(prefix="hemicycle-verify-") as work:
        checked = _read(Path(path), passphrase, Path(work), None)
        checked.database_file = None
        return checked


def ensure_empty_dir(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise TargetNotEmpty(f"the data directory {data_dir} is not empty: restore into a new "
                             "or empty directory (HEMICYCLE_DATA_DIR)")


def restore(path: Path, data_dir: Path, database_url: str,
            passphrase: str | None = None) -> dict:
    """Restore into ``data_dir`` and ``database_url``, both empty; returns the manifest."""
    data_dir = Path(data_dir).resolve()
    ensure_empty_dir(data_dir)
    database.ensure_empty(database_url)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir.parent, prefix=f".{data_dir.name}.restore-"))
    try:
        checked = _read(Path(path), passphrase, staging, staging)
        if not checked.ok:
            raise BadBackup("the backup does not match its manifest: "
                            + "; ".join(checked.problems[:5]))
        files = staging / "data"
        files.mkdir(exist_ok=True)
        if data_dir.exists():
            data_dir.rmdir()  # empty, as checked
        os.replace(files, data_dir)
        data_dir.chmod(0o700)
        try:
            database.load(checked.manifest["database"]["kind"], checked.database_file,
                          database_url)
        except BaseException:
            # Leave the target as it was: an empty data directory, for another try.
            shutil.rmtree(data_dir, ignore_errors=True)
            data_dir.mkdir()
            raise
        return checked.manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)
