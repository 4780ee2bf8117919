"""Statements SQLAlchemy can cache: a statement with a value of a type that has no cache key is
compiled anew each time it runs, with a warning. Flask-Security's comma-separated list (AsaList, the
recovery codes of a login and the permissions of a role) had none; models/auth.py gives it one."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import Role, User


def test_statements_with_the_list_columns_of_logins_and_roles_have_a_cache_key():
    for column in (User.mf_recovery_codes, Role.permissions):
        assert select(column.parent.class_).where(column == ["a"])._generate_cache_key() is not None, column
