"""Extension objects, created unbound; `create_app` binds them with `init_app`."""

import sqlite3

from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from admin_app.models.base import Base
from admin_app.rate_limits import LimitedResetMail, PerAppLimiter
from admin_app.services.accounts.passwords import PasswordPolicy
from admin_app.services.accounts.recovery_codes import HashedRecoveryCodes
from admin_app.services.platform import sql_time

db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
mail = Mail()
babel = Babel()
# The practice's password policy, recovery codes kept hashed (services/accounts) and reset emails
# limited per address (rate_limits).
security = Security(
    password_util_cls=PasswordPolicy, mf_recovery_codes_util_cls=HashedRecoveryCodes, mail_util_cls=LimitedResetMail
)
csrf = CSRFProtect()
# No default limits: only the routes that ask for one are limited (the public links against guessing;
# sign-in, second factor and password reset). Counts live in RATELIMIT_STORAGE_URI (Redis when
# REDIS_URL is set, else the app's own database: admin_app/rate_limits.py), kept per app. A storage
# outage lets requests through (logged), rather than turning a client's page into an error: the
# tokens are unguessable and the lockout of an account (accounts.lockout) does not depend on it.
limiter = PerAppLimiter(key_func=get_remote_address, swallow_errors=True)


@event.listens_for(Engine, "connect")
def _prepare_sqlite(dbapi_connection, _connection_record) -> None:
    """SQLite ignores foreign keys unless asked, per connection; the embedded default must not. It
    has no time zones either: the clinic's local dates come from a function of ours (`sql_time`)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        sql_time.register_sqlite(dbapi_connection)
