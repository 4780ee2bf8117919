"""The practice back office: `create_app` is the only place that wires things together."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import get_locale
from flask_security import SQLAlchemyUserDatastore, current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from admin_app import cli, jobs, rate_limits, views
from admin_app.config import SUPPORTED_LOCALES, load_settings
from admin_app.extensions import babel, csrf, db, limiter, mail, migrate, security
from admin_app.models import Role, User
from admin_app.models.audit import set_actor_resolver
from admin_app.views.accounts import guessing, sessions
from admin_app.views.accounts.login_form import PracticeLoginForm
from admin_app.views.platform import errors, headers
from admin_app.views.platform.log_privacy import PrivateFlask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides what the environment says (tests use it)."""
    app = PrivateFlask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_settings(instance_path=Path(app.instance_path)))
    if config:
        app.config.update(config)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind N proxies, the client's address (rate limits) and scheme come from their headers.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    headers.init_app(app)  # CSP, HSTS and the https redirect, no-store: views/platform/headers.py
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    sessions.init_app(app)  # server-side sessions; ended ones are signed out before the CSRF check
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", rate_limits.storage_uri(app.config))
    app.config.setdefault("RATELIMIT_ENABLED", True)  # explicit: Flask-Limiter would inherit the last app's
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    security.init_app(app, SQLAlchemyUserDatastore(db, User, Role), login_form=PracticeLoginForm)
    guessing.init_app(app)  # limits and lockout on the sign-in forms: views/accounts/guessing.py
    errors.init_app(app)  # one page for every error, JSON for scripts: views/platform/errors.py
    set_actor_resolver(current_actor)

    jobs.init_app(app)
    views.register(app)
    cli.register(app)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or app.config["DEFAULT_LOCALE"])
    return app


def select_locale() -> str:
    """The user's saved language, then the one chosen before login, then the browser's."""
    if has_request_context():
        if current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
            return current_user.locale
        if session.get("locale") in SUPPORTED_LOCALES:
            return session["locale"]
        best = request.accept_languages.best_match(SUPPORTED_LOCALES)
        if best:
            return best
    return current_app.config["DEFAULT_LOCALE"]


def current_actor() -> tuple[int | None, str]:
    """Who the audit trail names: the signed-in user, else what the command or job said."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, g.get("audit_actor", "system") if has_app_context() else "system"
