"""Extension objects, created unbound; `create_app` binds them with `init_app`."""

from flask_babel import Babel
from flask_mail import Mail
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from admin_app.models.base import Base

db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
mail = Mail()
babel = Babel()
security = Security()
csrf = CSRFProtect()
