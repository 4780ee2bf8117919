"""DESIGN.md's "Who may import whom", read from the source with `ast` (nothing is imported or run).

- services and models import nothing from views, jobs or Flask-Admin;
- charts import nothing of ours: services hand them plain data;
- nothing in jobs imports the app factory: the worker entry point (`jobs/worker.py`) builds the app.

Every import counts, at the top of a module or inside a function, absolute or relative. A broken
rule names each file, line and import statement. The planted sources below show that each rule
can fail, so a green run means the code keeps it, not that the check sees nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from admin_app import PROJECT_ROOT

PACKAGE = "admin_app"


@dataclass(frozen=True)
class Rule:
    """Modules under `folders` of the package (but the `exempt` files) import no name under
    `forbidden`, except those under `allowed`."""

    name: str
    folders: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()

    def files(self, root: Path) -> list[Path]:
        package = root / PACKAGE
        return sorted(
            path
            for folder in self.folders
            for path in (package / folder).rglob("*.py")
            if path.relative_to(package).as_posix() not in self.exempt
        )

    def breaks(self, name: str) -> bool:
        return _under(name, self.forbidden) and not _under(name, self.allowed)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


LAYERS = Rule(
    "services and models import nothing from views, jobs or Flask-Admin",
    folders=("services", "models"),
    forbidden=(f"{PACKAGE}.views", f"{PACKAGE}.jobs", "flask_admin"),
)
CHARTS = Rule(
    "charts import nothing of ours", folders=("charts",), forbidden=(PACKAGE,), allowed=(f"{PACKAGE}.charts",)
)
JOBS = Rule(
    "nothing in jobs imports the app factory but the worker entry point",
    folders=("jobs",),
    forbidden=(f"{PACKAGE}.create_app",),
    exempt=("jobs/worker.py",),
)
RULES = (LAYERS, CHARTS, JOBS)


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names a statement imports: `from admin_app import views` imports `admin_app.views`;
    a relative import is resolved against the importing module's package."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    return [f"{base}.{alias.name}" if alias.name != "*" else base for alias in node.names]


def violations(rule: Rule, root: Path) -> list[str]:
    """`file:line: import statement` for each import under `root` (a checkout) that breaks the rule."""
    found = []
    for path in rule.files(root):
        source = path.read_text(encoding="utf-8")
        module = module_name(root, path)
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = imported_names(node, module, is_package=path.name == "__init__.py")
            if any(rule.breaks(name) for name in names):
                statement = " ".join(ast.get_source_segment(source, node).split())
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}: {statement}")
    return sorted(found)


def assert_kept(rule: Rule, root: Path) -> None:
    """Fails naming the rule, then each offending file, line and import (one a line)."""
    broken = violations(rule, root)
    if broken:
        pytest.fail(f"{rule.name}:\n" + "\n".join(broken), pytrace=False)


@pytest.mark.parametrize("rule", [LAYERS, CHARTS], ids=["layers", "charts"])
def test_the_code_keeps_the_import_rule(rule):
    assert rule.files(PROJECT_ROOT), f"{rule.name}: no files found under {PROJECT_ROOT / PACKAGE}"
    assert_kept(rule, PROJECT_ROOT)


def test_the_jobs_never_import_the_app_factory():
    assert JOBS.files(PROJECT_ROOT)
    assert_kept(JOBS, PROJECT_ROOT)


# Each rule against a planted module: (rule, file in the package, source, the import it must report or None).
PLANTED = [
    (LAYERS, "services/billing/invoices.py", "from admin_app.views.billing import InvoiceView\n", 1),
    (LAYERS, "services/billing/invoices.py", "import os\n\n\ndef later():\n    from ...jobs import queue\n", 5),
    (LAYERS, "models/people.py", "from flask_admin.contrib.sqla import ModelView\n", 1),
    (LAYERS, "services/__init__.py", "from ..jobs.queue import enqueue\n", 1),
    (LAYERS, "services/billing/invoices.py", "from admin_app import views\n", 1),
    (LAYERS, "services/billing/invoices.py", "from admin_app.services.platform import money\nimport flask\n", None),
    (LAYERS, "services/billing/invoices.py", "from . import payments\nfrom .jobs_log import row\n", None),
    (CHARTS, "charts/yearly.py", "from admin_app.services.reports import figures\n", 1),
    (CHARTS, "charts/yearly.py", "import plotly.graph_objects as go\nfrom ..services import reports\n", 2),
    (CHARTS, "charts/yearly.py", "from . import colours\nfrom admin_app.charts.colours import PALETTE\n", None),
    (CHARTS, "charts/yearly.py", "import plotly.graph_objects as go\nfrom decimal import Decimal\n", None),
    (JOBS, "jobs/queue.py", "def app():\n    from admin_app import create_app\n    return create_app()\n", 2),
    (JOBS, "jobs/queue.py", "from .. import create_app as build\n", 1),
    (JOBS, "jobs/worker.py", "from admin_app import create_app\n", None),
    (JOBS, "jobs/queue.py", "from admin_app.services.messaging import delivery\n", None),
]


@pytest.mark.parametrize(("rule", "relative", "source", "line"), PLANTED)
def test_a_planted_import_breaks_its_rule_and_is_named(tmp_path, rule, relative, source, line):
    planted = tmp_path / PACKAGE / relative
    planted.parent.mkdir(parents=True)
    planted.write_text(source, encoding="utf-8")

    broken = violations(rule, tmp_path)

    if line is None:
        assert broken == []
    else:
        statement = source.splitlines()[line - 1].strip()
        assert broken == [f"{PACKAGE}/{relative}:{line}: {statement}"]
        with pytest.raises(pytest.fail.Exception) as failed:
            assert_kept(rule, tmp_path)
        assert str(failed.value) == f"{rule.name}:\n{PACKAGE}/{relative}:{line}: {statement}"
