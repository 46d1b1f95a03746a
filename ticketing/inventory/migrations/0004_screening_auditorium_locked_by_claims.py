"""A screening's auditorium cannot change once a seat of it is held or sold (invariant 12).

The database decides, whoever writes: a trigger on the screening refuses a new auditorium while
a live or sold claim exists. It first locks the screening row FOR UPDATE, which waits for any
transaction still inserting a claim, so a claim being made at that moment is seen, never missed:
the claim's foreign key to its screening is made immediate (Django creates it DEFERRABLE
INITIALLY DEFERRED), so its check takes a KEY SHARE lock on the screening row when the claim is
inserted, not at commit. The check runs per row either way; only its moment changes.
"""

from django.db import migrations

LOCKED = "marquee_auditorium_locked"

POSTGRES = f"""
CREATE OR REPLACE FUNCTION {LOCKED}() RETURNS trigger AS $$
BEGIN
    IF NEW.auditorium_id IS DISTINCT FROM OLD.auditorium_id THEN
        PERFORM 1 FROM screenings_screening WHERE id = OLD.id FOR UPDATE;
        IF EXISTS (
            SELECT 1 FROM inventory_seatclaim
            WHERE screening_id = OLD.id AND (expires_at IS NULL OR expires_at > now())
        ) THEN
            RAISE EXCEPTION '{LOCKED}: screening % has held or sold seats', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {LOCKED} ON screenings_screening;
CREATE TRIGGER {LOCKED} BEFORE UPDATE OF auditorium_id ON screenings_screening
    FOR EACH ROW EXECUTE FUNCTION {LOCKED}();
"""
# The claim table's foreign key to the screening, checked at once rather than at commit.
CLAIM_FK = """
DO $$
DECLARE fk text;
BEGIN
    SELECT conname INTO fk FROM pg_constraint
    WHERE conrelid = 'inventory_seatclaim'::regclass AND contype = 'f'
      AND confrelid = 'screenings_screening'::regclass;
    EXECUTE format('ALTER TABLE inventory_seatclaim ALTER CONSTRAINT %I NOT DEFERRABLE', fk);
END
$$;
"""
CLAIM_FK_REVERSE = CLAIM_FK.replace("NOT DEFERRABLE", "DEFERRABLE INITIALLY DEFERRED")

POSTGRES_REVERSE = f"""
DROP TRIGGER IF EXISTS {LOCKED} ON screenings_screening;
DROP FUNCTION IF EXISTS {LOCKED}();
"""

# SQLite (the embedded mode) compares times as Django stores them: ISO text in UTC.
SQLITE = f"""
CREATE TRIGGER IF NOT EXISTS {LOCKED}
BEFORE UPDATE OF auditorium_id ON screenings_screening
FOR EACH ROW WHEN NEW.auditorium_id IS NOT OLD.auditorium_id AND EXISTS (
    SELECT 1 FROM inventory_seatclaim
    WHERE screening_id = OLD.id
      AND (expires_at IS NULL OR expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now'))
)
BEGIN
    SELECT RAISE(ABORT, '{LOCKED}: the screening has held or sold seats');
END;
"""
SQLITE_REVERSE = f"DROP TRIGGER IF EXISTS {LOCKED};"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(CLAIM_FK, params=None)
        schema_editor.execute(POSTGRES, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
        schema_editor.execute(CLAIM_FK_REVERSE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_hold_client_network"),
        ("screenings", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
