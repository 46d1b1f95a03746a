"""A claim is for a seat of its screening's auditorium as it is now (invariant 12).

The hold checks its seats against the screening it read; a staff move of the screening to
another auditorium can commit between that read and the claim's insert (the move locks the
screening FOR UPDATE; the claim's foreign key check only waits for it and then passes, the key
being unchanged). This trigger closes the gap in the database: it reads the screening FOR KEY
SHARE, which waits for a move in progress and then sees the screening as the move left it, and
refuses a seat of any other auditorium. It fires before the insert, so on the ON CONFLICT path
too. SQLite has no concurrent writers: it needs no trigger.
"""

from django.db import migrations

TRIGGER = "marquee_claim_seat_in_room"

POSTGRES = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
DECLARE room bigint;
BEGIN
    SELECT auditorium_id INTO room FROM screenings_screening
    WHERE id = NEW.screening_id FOR KEY SHARE;
    IF NOT EXISTS (
        SELECT 1 FROM screenings_seat WHERE id = NEW.seat_id AND auditorium_id = room
    ) THEN
        RAISE EXCEPTION '{TRIGGER}: seat % is not in the auditorium of screening %',
            NEW.seat_id, NEW.screening_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {TRIGGER} ON inventory_seatclaim;
CREATE TRIGGER {TRIGGER} BEFORE INSERT ON inventory_seatclaim
    FOR EACH ROW EXECUTE FUNCTION {TRIGGER}();
"""

POSTGRES_REVERSE = f"""
DROP TRIGGER IF EXISTS {TRIGGER} ON inventory_seatclaim;
DROP FUNCTION IF EXISTS {TRIGGER}();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_allocations"), ("screenings", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
