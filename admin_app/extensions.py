"""Extension objects, created unbound; `create_app` binds them with `init_app`."""

import sqlite3

from flask_babel import Babel
from flask_mail import Mail
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from admin_app.models.base import Base

db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
mail = Mail()
babel = Babel()
security = Security()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection, _connection_record) -> None:
    """SQLite ignores foreign keys unless asked, per connection; the embedded default must not."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
