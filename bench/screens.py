"""Every staff and portal screen, timed at the bench practice against the same screen with no rows
plus a generic bare SQL of what it shows; and the CSV exports of the biggest lists, their peak memory.

The screens come from the app itself, so a screen added later is measured without editing this file:
- each Flask-Admin list view (staff and portal): its list, the details of one busy record (the one
  with the most rows in its biggest one-to-many relation, among those the signed-in user may read)
  and its create form; a list of more than DEEP_PAGES pages also at its middle page, as its next
  link reaches it (by keyset);
- every other GET rule under `/admin` or `/portal` that takes no argument (the screens that are no
  list view: the book, the reports, the caseloads...).
Staff screens are read as the bench's admin, portal screens as the therapist with the most clients.

"Empty" is the same URL rendered by the same code on an empty practice: a schema of its own
(`<schema>_empty`, migrated, holding only an admin and a therapist with the bench's logins), so it
is what the view costs with no rows. A details page has no record there: its empty render is the
view's create form there (or its list when it has no form).

The bare SQL is generic, written from the view's declarations and run through the same connection:
- a list: its columns (with the many-to-one relations it shows joined) under the view's row filter
  (`get_query`), in the default sort, LIMIT page_size; the count of the rows; and the rows of the
  to-many relations it shows, for that page's records;
- a details page: the record by primary key with its many-to-one relations, and the rows of the
  to-many relations it shows;
- a create form: the records its (non-ajax) relation fields offer.
Other screens have no generic bare SQL: they are judged against the hand-written SQL bench/screen_sql.py
registers for their URL (checked against the screen's figures), else timed and their statements
counted but not judged here (run.py's figures judge the ones it has hand-written SQL for).

On SQLite the hand-written SQL (PostgreSQL's) does not run: a screen without generic bare SQL is
judged against its own statements, replayed as the page sent them (`replayed`). That judges the
code around the SQL (the ORM, the Python, the template), not the SQL itself, which PostgreSQL's
run judges.

A screen's limit: page <= 2 x (empty + bare), printed as ratio = page / (empty + bare), limit 2.
An export's: its peak memory (tracemalloc) for the full list <= 2 x its peak for the first 1,000 rows.
"""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import screen_sql  # bench/screen_sql.py, next to this file
import sqlalchemy as sa
from sqlalchemy.orm import RelationshipDirection, aliased
from stopwatch import best, elapsed_ms  # bench/stopwatch.py, next to this file

SCREEN_LIMIT = 2.0
EXPORT_LIMIT = 2.0
EXPORT_SMALL_ROWS = 1000
DEEP_PAGES = 100  # a list of more pages is read at its middle page too, as its next link reaches it
EXPORT_LISTS = 2  # the biggest lists (by rows) whose CSV export is measured: a traced export is slow
EMPTY_THERAPIST_EMAIL = "bench-empty-therapist@example.com"
# Flask-Admin's own endpoints that are no screen of their own (or are measured apart: the exports),
# and the pages that end the visitor's session.
NOT_SCREENS = re.compile(
    r"\.(export|ajax_lookup|ajax_update|delete_view|action_view|edit_view|details_view|create_view|index_view|static)$"
    r"|^(security|my_sessions|portal_sessions)\.(logout|end|end_all|two_factor_token_validation)$"
)
TO_MANY = (RelationshipDirection.ONETOMANY, RelationshipDirection.MANYTOMANY)


@dataclass
class Screen:
    name: str
    area: str  # "staff" or "portal"
    url: str
    empty_url: str
    bare: Callable[[], object] | None = None
    checked: str = ""  # what was checked of a hand-written bare SQL (screen_sql.py)


def screen_results(app, make_app, empty_url: str, session, args, users: dict) -> list[dict]:
    """Rows for run.py's table (Result's fields): every screen, then the exports. `users` maps
    "staff" and "portal" to the (email, password) to sign in with; `make_app(empty_url)` makes the
    app of the empty practice."""
    empty_app, empty_users = empty_practice(make_app, empty_url, users)
    screens = enumerate_screens(app, session, users)
    clients = {area: signed_in(app, *login) for area, login in users.items()}
    empty_clients = {area: signed_in(empty_app, *login) for area, login in empty_users.items()}
    rows = []
    for screen in screens:
        rows.append(measure(app, empty_app, session, args, screen, clients, empty_clients))
    rows.extend(export_results(app, session, clients["staff"]))
    return rows


def signed_in(app, email: str, password: str):
    """A test client signed in as `email`, in an app context of its own (Flask-Login caches the
    user in `g`, which lives as long as the app context)."""
    client = app.test_client()
    with app.app_context():
        login = client.post("/login", data={"email": email, "password": password})
    if login.status_code != 302:
        raise RuntimeError(f"{email} could not sign in: {login.status_code}")
    return client


def enumerate_screens(app, session, users: dict) -> list[Screen]:
    """The screens of every Flask-Admin instance (staff, portal), read in a request signed in as
    the area's user, so row filters (a therapist's own records) are those the page applies."""
    from flask_admin.contrib.sqla import ModelView
    from flask_login import login_user

    from admin_app.extensions import db
    from admin_app.models import User

    screens: list[Screen] = []
    for admin in app.extensions["admin"]:
        area = "portal" if admin.url.startswith("/portal") else "staff"
        with app.app_context(), app.test_request_context():
            login_user(db.session.scalar(sa.select(User).where(User.email == users[area][0])))
            for view in admin._views:
                if isinstance(view, ModelView):
                    screens.extend(model_screens(session, view, area))
            screens.extend(other_screens(app, session, admin.url, area))
    return screens


def model_screens(session, view, area: str) -> list[Screen]:
    from flask import url_for

    index = url_for(f"{view.endpoint}.index_view")
    create = url_for(f"{view.endpoint}.create_view") if view.can_create else None
    screens = [Screen(f"{area} {index} (list)", area, index, index, list_sql(session, view))]
    if index in screen_sql.LISTS_WITH_FIGURES and session.get_bind().dialect.name != "postgresql":
        screens[0].bare, screens[0].checked = None, "its figures' bare SQL is PostgreSQL's"
    deep = deep_page(session, view, index)
    if deep is not None:
        url, bare = deep
        screens.append(Screen(f"{area} {url} (list, middle page by its next link)", area, url, url, bare))
    if view.can_view_details:
        record_id = busy_record(session, view)
        if record_id is not None:
            details = url_for(f"{view.endpoint}.details_view", id=record_id)
            screen = Screen(f"{area} {details} (details)", area, details, create or index)
            screen.bare = details_sql(session, view, record_id)
            rows = screen_sql.DETAILS.get(details.split("?")[0])
            if rows is not None and session.get_bind().dialect.name == "postgresql":
                screen.bare, screen.checked = rows(session, record_id, screen.bare)
            screens.append(screen)
    if create is not None:
        screens.append(Screen(f"{area} {create} (create form)", area, create, create, form_sql(session, view)))
    return screens


def other_screens(app, session, prefix: str, area: str) -> list[Screen]:
    """The GET rules under `prefix` without arguments that are no list view's standard page, and
    the views with a query string screen_sql.py registers, with their hand-written bare SQL where
    screen_sql.py has one."""
    rules = sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(prefix)
            and "GET" in rule.methods
            and not rule.arguments
            and not NOT_SCREENS.search(rule.endpoint)
        ),
        key=lambda rule: rule.rule,
    )
    views = [url for url in screen_sql.BARE if url.startswith(prefix) and "?" in url]
    screens = []
    for url in [rule.rule for rule in rules] + views:
        screen = Screen(f"{area} {url}", area, url, url)
        if url in screen_sql.BARE and session.get_bind().dialect.name != "postgresql":
            screen.checked = "its bare SQL is PostgreSQL's"
        elif url in screen_sql.BARE:
            screen.bare, screen.checked = screen_sql.BARE[url](session)
        screens.append(screen)
    return screens


def row_filter(view):
    """The WHERE of the view's own query (a portal list's therapist, a staff list's scope), or None."""
    return view.get_query().whereclause


def shown_relations(model, names) -> tuple[list[list[str]], list[str]]:
    """The relation paths a list of column names shows: many-to-one chains ("client.payer.name" ->
    ["client", "payer"]) to join, and the to-many relations of the model itself to read apart."""
    joins, many = [], []
    for name in names:
        parts = str(name).split(".")
        mapper, path = model.__mapper__, []
        for part in parts:
            relation = mapper.relationships.get(part)
            if relation is None:
                break
            if relation.direction in TO_MANY:
                if not path and part not in many:
                    many.append(part)
                break
            path.append(part)
            mapper = relation.mapper
        if path and path not in joins:
            joins.append(path)
    return joins, many


def joined_select(model, joins: list[list[str]]):
    """SELECT the model's columns and those of each many-to-one relation on the paths (outer joins,
    each relation aliased once), and the aliases by class for sorting on a related column."""
    statement = sa.select(*model.__table__.columns).select_from(model)
    aliases: dict[tuple[str, ...], object] = {}
    by_class: dict[type, object] = {}
    for path in joins:
        parent = model
        for depth, part in enumerate(path):
            key = tuple(path[: depth + 1])
            if key not in aliases:
                relation = getattr(parent, part)
                target = aliased(relation.property.mapper.class_)
                statement = statement.outerjoin(relation.of_type(target))
                statement = statement.add_columns(*(getattr(target, c.key) for c in target.__mapper__.column_attrs))
                aliases[key] = target
                by_class.setdefault(relation.property.mapper.class_, target)
            parent = aliases[key]
    return statement, by_class


def default_order(view, by_class: dict):
    """The view's default sort, on the aliased relation where the sort column is a related one."""
    order = []
    for attr, _joins, desc in view._get_default_order():
        column = attr
        owner = getattr(attr, "class_", None)
        if owner is not None and owner is not view.model and owner in by_class:
            column = getattr(by_class[owner], attr.key)
        order.append(column.desc() if desc else column.asc())
    return order


def many_rows(session, model, relations: list[str], ids: list):
    """The rows of the model's to-many relations for the records `ids`, one statement each."""
    pk = model.__mapper__.primary_key[0]
    for name in relations:
        target = aliased(getattr(model, name).property.mapper.class_)
        statement = (
            sa.select(pk, *(getattr(target, c.key) for c in target.__mapper__.column_attrs))
            .select_from(model)
            .join(getattr(model, name).of_type(target))
            .where(pk.in_(ids))
        )
        session.execute(statement).all()


def list_sql(session, view, after=None) -> Callable[[], object]:
    """A list's page: the first, or the one after the row `after` (by keyset: that row's values of
    the default order read by its id, as the page's link gives only the id, then the rows past them
    by a row comparison, which PostgreSQL bounds by the index of the first column)."""
    model = view.model
    joins, many = shown_relations(model, [name for name, _label in view._list_columns])
    statement, by_class = joined_select(model, joins)
    where = row_filter(view)
    count = sa.select(sa.func.count()).select_from(model)
    if where is not None:
        statement, count = statement.where(where), count.where(where)
    statement = statement.order_by(*default_order(view, by_class)).limit(view.page_size)
    pk = model.__mapper__.primary_key[0]

    def bare():
        session.execute(count).scalar_one()
        page = statement if after is None else statement.where(past_anchor(session, view.keyset_order(), pk, after))
        rows = session.execute(page).all()
        many_rows(session, model, many, [row._mapping[pk] for row in rows])

    return bare


def past_anchor(session, order: list[tuple], pk, after):
    """The rows past the row `after` in `order` (one direction): its values read by its id, then a
    row comparison."""
    columns = sa.tuple_(*(attr for attr, _desc in order))
    values = sa.tuple_(*session.execute(sa.select(*columns.clauses).where(pk == after)).one())
    return columns < values if order[0][1] else columns > values


def deep_page(session, view, index: str) -> tuple[str, Callable[[], object]] | None:
    """The URL of a long list's middle page as its next link gives it (`page=N&after=<id>`, read by
    keyset) and its bare SQL; None for a list of fewer than DEEP_PAGES pages or one not paged by keyset
    (an order mixing directions is not either: a row comparison holds one direction)."""
    order = view.keyset_order()
    if order is None or len({desc for _attr, desc in order}) != 1:
        return None
    where = row_filter(view)
    count = sa.select(sa.func.count()).select_from(view.model)
    rows = session.scalar(count if where is None else count.where(where))
    if rows < DEEP_PAGES * view.page_size:
        return None
    page = rows // 2 // view.page_size
    pk = view.model.__mapper__.primary_key[0]
    preceding = sa.select(pk).order_by(*(attr.desc() if desc else attr.asc() for attr, desc in order))
    preceding = (preceding if where is None else preceding.where(where)).offset(page * view.page_size - 1).limit(1)
    after = session.scalar(preceding)
    return f"{index}?page={page}&after={after}", list_sql(session, view, after)


def details_sql(session, view, record_id) -> Callable[[], object]:
    model = view.model
    joins, many = shown_relations(model, [name for name, _label in view._details_columns])
    statement, _by_class = joined_select(model, joins)
    statement = statement.where(model.__mapper__.primary_key[0] == record_id)

    def bare():
        session.execute(statement).one()
        many_rows(session, model, many, [record_id])

    return bare


def form_sql(session, view) -> Callable[[], object] | None:
    """The records the create form's choice fields offer: its many-to-one relations (those looked up
    by ajax offer none; to-many ones are inline rows, empty on a new record)."""
    from wtforms.fields.core import UnboundField

    form_class = view._create_form_class
    fields = {name for name in dir(form_class) if isinstance(getattr(form_class, name, None), UnboundField)}
    ajax = set(view.form_ajax_refs or ())
    targets = [
        relation.mapper.class_
        for name, relation in view.model.__mapper__.relationships.items()
        if name in fields and name not in ajax and relation.direction is RelationshipDirection.MANYTOONE
    ]
    if not targets:
        return None
    statements = [sa.select(*target.__table__.columns) for target in targets]

    def bare():
        for statement in statements:
            session.execute(statement).all()

    return bare


def busy_record(session, view):
    """The record with the most rows in the model's biggest one-to-many relation, among those the
    view's row filter lets through; the first one when the model has no such relation."""
    model = view.model
    pk = model.__mapper__.primary_key[0]
    where = row_filter(view)
    visible = sa.select(pk)
    if where is not None:
        visible = visible.where(where)
    relations = [
        relation
        for relation in model.__mapper__.relationships
        if relation.direction is RelationshipDirection.ONETOMANY and len(relation.remote_side) == 1
    ]
    sizes = {relation: table_rows(session, relation.mapper.local_table.name) for relation in relations}
    if not relations or not max(sizes.values()):
        return session.scalar(visible.order_by(pk).limit(1))
    relation = max(relations, key=sizes.get)
    (key,) = relation.remote_side
    busiest = (
        sa.select(key)
        .where(key.in_(visible.scalar_subquery()))
        .group_by(key)
        .order_by(sa.func.count().desc(), key)
        .limit(1)
    )
    return session.scalar(busiest) or session.scalar(visible.order_by(pk).limit(1))


def table_rows(session, table: str) -> float:
    """About how many rows `table` holds: the planner's estimate (PostgreSQL), or a count (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        estimate = sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)")
        return session.scalar(estimate, {"name": table}) or 0
    return session.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))


def timed_get(client, url: str, repeat: int) -> tuple[float | None, list, int, int]:
    """Best ms of `repeat` GETs after a warm one, the statements of the last (with their parameters),
    the status and size. A screen that opens with its defaults by a redirect to itself (the book of a
    network opens on its first site) is timed at that address."""
    from admin_app.extensions import db

    first = client.get(url)
    path = url.split("?")[0]
    if first.status_code in (302, 303) and first.location.split("?")[0].removeprefix("http://localhost") == path:
        url = first.location
        first = client.get(url)
    if first.status_code != 200:
        return None, [], first.status_code, 0
    requests: list[list[tuple[str, object]]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        requests[-1].append((statement, parameters))

    times = []
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        for _ in range(repeat):
            requests.append([])
            ms, response = elapsed_ms(lambda: client.get(url))
            times.append(ms)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return best(times), requests[-1], response.status_code, len(first.data)


def replayed(session, statements: list[tuple[str, object]]) -> Callable[[], None]:
    """The page's own statements sent again as they were (no ORM, no template, no Python around
    them): the bare side of a SQLite screen that has no generic bare SQL, since the hand-written
    one is PostgreSQL's. It judges the code around the SQL, not the SQL."""

    def replay():
        connection = session.connection()
        for statement, parameters in statements:
            result = connection.exec_driver_sql(statement, parameters)
            if result.returns_rows:
                result.fetchall()

    return replay


def timed_bare(session, bare, repeat: int) -> float:
    bare()
    session.rollback()
    times = []
    for _ in range(repeat):
        times.append(elapsed_ms(bare)[0])
        session.rollback()
    return best(times)


def measure(app, empty_app, session, args, screen: Screen, clients, empty_clients) -> dict:
    # Each app's own context: the bench's holds the admin's `g` (Flask-Login caches the user there).
    with app.app_context():
        ms, statements, status, size = timed_get(clients[screen.area], screen.url, args.repeat)
    if ms is None:
        return {"name": screen.name, "note": f"skipped: {status}"}
    with empty_app.app_context():
        empty_ms, _statements, empty_status, _size = timed_get(
            empty_clients[screen.area], screen.empty_url, args.repeat
        )
    if empty_ms is None:
        return {"name": screen.name, "best_ms": ms, "note": f"empty practice answered {empty_status}"}
    note = ", ".join(part for part in (f"{size // 1024} KiB, {len(statements)} statements", screen.checked) if part)
    bare = screen.bare
    if bare is None and session.get_bind().dialect.name == "sqlite":
        bare = replayed(session, statements)
        note = f"{note}; bare: its own statements replayed"
    if bare is None:
        note = f"{note}; no bare SQL: not judged"
        return {"name": screen.name, "best_ms": ms, "empty_ms": empty_ms, "limit": None, "note": note}
    bare_ms = timed_bare(session, bare, args.repeat)
    return {
        "name": screen.name,
        "best_ms": ms,
        "empty_ms": empty_ms,
        "bare_ms": bare_ms,
        "limit": SCREEN_LIMIT,
        "note": note,
    }


def export_results(app, session, client) -> list[dict]:
    """The CSV export of the biggest staff lists: the peak memory of the first EXPORT_SMALL_ROWS rows
    against the full list's (ratio = full / small); the note gives the full export's time and size."""
    from flask_admin.contrib.sqla import ModelView

    staff = next(admin for admin in app.extensions["admin"] if not admin.url.startswith("/portal"))
    views = [
        view
        for view in staff._views
        if isinstance(view, ModelView) and view.can_export and "csv" in (view.export_types or ())
    ]
    sizes = {view: table_rows(session, view.model.__tablename__) for view in views}
    rows = []
    for view in sorted(views, key=sizes.get, reverse=True)[:EXPORT_LISTS]:
        with app.test_request_context():
            from flask import url_for

            url = url_for(f"{view.endpoint}.export", export_type="csv")
        name = f"staff {url} (CSV export, peak memory full / first {EXPORT_SMALL_ROWS} rows)"
        with app.app_context():
            small = exported(client, url, view, EXPORT_SMALL_ROWS)
            full = exported(client, url, view, None)
        if small is None or full is None:
            rows.append({"name": name, "note": "skipped: the export failed"})
            continue
        (_ms, small_peak, small_lines, _bytes), (ms, peak, lines, size) = small, full
        rows.append(
            {
                "name": name,
                "best_ms": ms,
                "ratio": peak / small_peak,
                "limit": EXPORT_LIMIT,
                "note": f"peak {peak / 2**20:.1f} MiB for {lines} rows ({size // 1024} KiB)"
                f" vs {small_peak / 2**20:.1f} MiB for {small_lines}; time under tracemalloc",
            }
        )
    return rows


def exported(client, url: str, view, rows: int | None):
    """(ms, peak bytes, rows, bytes) of one CSV export read to its end under tracemalloc (which
    about doubles its time), its query cut to `rows` when given."""
    if rows is not None:
        query = view._export_query
        view._export_query = lambda: query().limit(rows)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        response = client.get(url, buffered=False)
        size = lines = 0
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        ms = (time.perf_counter() - started) * 1000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        if rows is not None:
            del view._export_query
    if response.status_code != 200:
        return None
    return ms, peak, lines - 1, size


def empty_practice(make_app, url: str, users: dict):
    """The app on an empty schema (migrated, made once) holding only an admin and a therapist with a
    login, and the logins to use there: the bench's admin, a therapist of its own."""
    from decimal import Decimal

    from flask import g
    from flask_migrate import upgrade

    from admin_app.extensions import db
    from admin_app.models import CompensationModel, Therapist, User
    from admin_app.services.accounts import logins
    from admin_app.services.people.compensation import start_terms

    staff_email, staff_password = users["staff"]
    empty_users = {"staff": users["staff"], "portal": (EMPTY_THERAPIST_EMAIL, users["portal"][1])}
    app = make_app(url)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        g.audit_actor = "bench"
        if not db.session.scalar(sa.select(User.id).where(User.email == staff_email)):
            logins.create_admin(db.session, email=staff_email, password=staff_password, locale="en")
        if not db.session.scalar(sa.select(Therapist.id).where(Therapist.email == EMPTY_THERAPIST_EMAIL)):
            therapist = Therapist(
                full_name="Bench Empty",
                email=EMPTY_THERAPIST_EMAIL,
                compensation_model=CompensationModel.COMMISSION,
                commission_percent=Decimal("40.00"),
                default_fee=Decimal("150.00"),
                default_currency="PEN",
            )
            db.session.add(therapist)
            start_terms(db.session, [therapist])
            logins.therapist_login(db.session, therapist, password=users["portal"][1], locale="en")
        db.session.commit()
    return app, empty_users
