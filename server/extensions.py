"""Extension objects shared by the whole application, wired in ``create_app``."""
from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

from server.db import Database

db = Database()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
