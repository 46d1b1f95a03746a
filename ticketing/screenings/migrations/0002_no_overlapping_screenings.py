"""Two scheduled screenings never overlap in one auditorium: a PostgreSQL exclusion constraint.

SQLite (the embedded mode) has no such constraint; there the model's clean() refuses overlaps
made through the admin, which is enough for a single-user demo.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE screenings_screening
    ADD CONSTRAINT screening_no_overlap
    EXCLUDE USING gist (auditorium_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status = 'scheduled');
"""
DROP = "ALTER TABLE screenings_screening DROP CONSTRAINT IF EXISTS screening_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("screenings", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
