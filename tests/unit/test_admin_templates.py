"""Our copies of Flask-Admin's templates (templates/admin/model/*.html, templates/admin/actions.html)
differ from the installed Flask-Admin's only where an inline onclick handler became a data- attribute
(static/js/admin-csp.js): after an upgrade of Flask-Admin, this fails until the copies are redone."""

from __future__ import annotations

import re
from pathlib import Path

import flask_admin
import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK_ADMIN = Path(flask_admin.__file__).resolve().parent / "templates" / "bootstrap4"
COPIES = (
    "admin/model/layout.html",
    "admin/model/row_actions.html",
    "admin/model/inline_list_base.html",
    "admin/actions.html",
)
OUR_NOTE = re.compile(r"\A\{#.*?#\}\n", re.S)
# What changed, as (Flask-Admin's text, ours).
DELETE = "'Are you sure you want to delete this record?'"
CHANGES = (
    (' onclick="return false;"', ""),
    (
        f"""<button onclick="return faHelpers.safeConfirm('{{{{ _gettext({DELETE}) }}}}');" """,
        f"""<button data-confirm="{{{{ _gettext({DELETE}) }}}}" """,
    ),
    (""" onclick="faForm.addInlineField(this, '{{ field.id }}');\"""", """ data-inline-add="{{ field.id }}\""""),
    ("""onclick="return modelActions.execute('{{ p[0] }}');\"""", """data-model-action="{{ p[0] }}\""""),
)


@pytest.mark.parametrize("name", COPIES)
def test_a_copied_template_is_flask_admins_without_its_inline_handlers(name):
    ours = OUR_NOTE.sub("", (ROOT / "templates" / name).read_text(), count=1)
    theirs = (FLASK_ADMIN / name).read_text()
    for before, after in CHANGES:
        theirs = theirs.replace(before, after)
    assert ours == theirs
    assert not re.search(r"\son[a-z]+=", ours)
