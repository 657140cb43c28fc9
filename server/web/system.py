"""The system page for administrators: version, tablets online, disk space of the data
directory, the last backup and its age, and the state of the audit chain."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, current_app, render_template
from flask_login import login_required
from sqlalchemy import func, select

from server.auth import current_actor
from server.extensions import db
from server.models import Device, DeviceKind, Meeting, Role
from server.monitoring import workers
from server.services import audit
from server.services.access import require_account_role
from server.services.backup.create import last_backup, version

bp = Blueprint("system", __name__, url_prefix="/system")
LOW_DISK_FRACTION = 0.1
BACKUP_STALE_HOURS = 36


def tablets_online() -> list[dict]:
    """Paired tablets with a live connection on any worker, by meeting (counted in the
    database, which every worker updates)."""
    rows = db.session.execute(
        select(Meeting.id, Meeting.title, func.count(Device.id))
        .join(Device, Device.meeting_id == Meeting.id)
        .where(Device.connections > 0, Device.revoked_at.is_(None),
               Device.kind == DeviceKind.TABLET)
        .group_by(Meeting.id, Meeting.title).order_by(Meeting.id))
    return [{"meeting_id": mid, "title": title, "count": count} for mid, title, count in rows]


def backup_state(data_dir: Path) -> dict | None:
    last = last_backup(data_dir)
    if last is None:
        return None
    taken = datetime.fromisoformat(last["created_at"])
    hours = (datetime.now(timezone.utc) - taken).total_seconds() / 3600
    return {**last, "age_hours": round(hours, 1), "stale": hours > BACKUP_STALE_HOURS}


@bp.get("")
@login_required
def index():
    require_account_role(current_actor(), Role.ADMIN)
    data_dir = Path(current_app.config["DATA_DIR"])
    disk = shutil.disk_usage(data_dir)
    chain = audit.verify()
    db.session.rollback()
    return render_template(
        "system/index.html", version=version(), tablets=tablets_online(),
        data_dir=data_dir, disk=disk, disk_low=disk.free < disk.total * LOW_DISK_FRACTION,
        backup=backup_state(data_dir), chain=chain, workers=workers.seen(current_app.config),
        redis=bool(current_app.config.get("REDIS_URL")), record_seconds=workers.RECORD_SECONDS,
        ttl_seconds=workers.TTL_SECONDS,
        database=current_app.config["DATABASE_URL"].split(":", 1)[0].split("+")[0])
