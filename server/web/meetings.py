"""Secretary's preparation pages (being written)."""
from flask import Blueprint

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


@bp.get("/")
def index():
    return "meetings"
