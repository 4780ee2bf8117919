"""client first attended: the start of each client's first attended session, kept by the database

`client.first_attended_at` is the start of the client's earliest attended session (DESIGN.md: a client
is new in the month of their first ever attended session), NULL while they have none. The year at a
glance and the new clients report read it by an index range instead of asking, for every client seen
in the period, whether they attended before it (0.37 s of the year's 0.79 s at ten years of a
200-therapist network).

Triggers keep it, so no write can leave it stale: a form, an import, Close the day, a bulk UPDATE or a
cascade. A participant becoming attended (inserted so, or marked) lowers it to its session's start;
any other change that can raise it (no longer attended, deleted, moved to another client or
appointment, the session moved in time) works it out again from the client's attended sessions.

On PostgreSQL the client's row is locked before that is read, and the read is a statement of its
own, so it sees what a concurrent transaction committed while this one waited for the lock: two
people marking the same client's sessions at once both count.

A later SQLite migration that rebuilds `participant` or `appointment` (`batch_alter_table` moving and
copying the table) drops their triggers: it must create them again (tests/integration/test_first_attended.py
fails on SQLite otherwise).

Revision ID: 0022_client_first_attended
Revises: 0021_record_history_lookup
Create Date: 2026-12-06 01:45:00

"""

import sqlalchemy as sa
from alembic import op

from admin_app.models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0022_client_first_attended"
down_revision = "0021_record_history_lookup"
branch_labels = None
depends_on = None

FIRST_ATTENDED = """(SELECT min(a.starts_at) FROM participant p JOIN appointment a ON a.id = p.appointment_id
     WHERE p.client_id = {client} AND p.attendance = 'attended')"""

POSTGRESQL = [
    f"""
CREATE FUNCTION client_first_attended_refresh(client_key integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM client WHERE id = client_key FOR UPDATE;
  UPDATE client SET first_attended_at = {FIRST_ATTENDED.format(client="client_key")} WHERE id = client_key;
END $$""",
    """
CREATE FUNCTION client_first_attended_participant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF OLD.attendance = 'attended' THEN
      PERFORM client_first_attended_refresh(OLD.client_id);
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    IF NEW.attendance = 'attended' THEN
      UPDATE client SET first_attended_at = least(first_attended_at, a.starts_at)
        FROM appointment a WHERE a.id = NEW.appointment_id AND client.id = NEW.client_id;
    END IF;
  END IF;
  RETURN NULL;
END $$""",
    """
CREATE TRIGGER participant_first_attended
AFTER INSERT OR DELETE OR UPDATE OF attendance, client_id, appointment_id ON participant
FOR EACH ROW EXECUTE FUNCTION client_first_attended_participant()""",
    """
CREATE FUNCTION client_first_attended_appointment() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  client_key integer;
BEGIN
  IF NEW.starts_at IS DISTINCT FROM OLD.starts_at THEN
    FOR client_key IN
      SELECT DISTINCT client_id FROM participant WHERE appointment_id = NEW.id AND attendance = 'attended'
    LOOP
      PERFORM client_first_attended_refresh(client_key);
    END LOOP;
  END IF;
  RETURN NULL;
END $$""",
    """
CREATE TRIGGER appointment_first_attended
AFTER UPDATE OF starts_at ON appointment
FOR EACH ROW EXECUTE FUNCTION client_first_attended_appointment()""",
]

# SQLite writes one transaction at a time: no lock to take. Its triggers can only be written per case.
REFRESH_SQLITE = "UPDATE client SET first_attended_at = " + FIRST_ATTENDED + " WHERE id = {client};"
LOWER_SQLITE = """UPDATE client SET first_attended_at = min(
      coalesce(first_attended_at, (SELECT starts_at FROM appointment WHERE id = NEW.appointment_id)),
      (SELECT starts_at FROM appointment WHERE id = NEW.appointment_id))
    WHERE id = NEW.client_id;"""
SQLITE = [
    f"""
CREATE TRIGGER participant_first_attended_insert AFTER INSERT ON participant
WHEN NEW.attendance = 'attended'
BEGIN
  {LOWER_SQLITE}
END""",
    f"""
CREATE TRIGGER participant_first_attended_delete AFTER DELETE ON participant
WHEN OLD.attendance = 'attended'
BEGIN
  {REFRESH_SQLITE.format(client="OLD.client_id")}
END""",
    f"""
CREATE TRIGGER participant_first_attended_update AFTER UPDATE OF attendance, client_id, appointment_id ON participant
WHEN OLD.attendance = 'attended' OR NEW.attendance = 'attended'
BEGIN
  {REFRESH_SQLITE.format(client="OLD.client_id")}
  {REFRESH_SQLITE.format(client="NEW.client_id")}
END""",
    f"""
CREATE TRIGGER appointment_first_attended AFTER UPDATE OF starts_at ON appointment
WHEN NEW.starts_at IS NOT OLD.starts_at
BEGIN
  UPDATE client SET first_attended_at = {FIRST_ATTENDED.format(client="client.id")}
    WHERE id IN (SELECT client_id FROM participant WHERE appointment_id = NEW.id AND attendance = 'attended');
END""",
]

DROP = {
    "postgresql": [
        "DROP TRIGGER appointment_first_attended ON appointment",
        "DROP TRIGGER participant_first_attended ON participant",
        "DROP FUNCTION client_first_attended_appointment()",
        "DROP FUNCTION client_first_attended_participant()",
        "DROP FUNCTION client_first_attended_refresh(integer)",
    ],
    "sqlite": [
        "DROP TRIGGER appointment_first_attended",
        "DROP TRIGGER participant_first_attended_update",
        "DROP TRIGGER participant_first_attended_delete",
        "DROP TRIGGER participant_first_attended_insert",
    ],
}


def upgrade():
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_attended_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_client_first_attended_at"), ["first_attended_at"], unique=False)
    op.execute("UPDATE client SET first_attended_at = " + FIRST_ATTENDED.format(client="client.id"))
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_first_attended_at"))
        batch_op.drop_column("first_attended_at")
