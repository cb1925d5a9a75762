"""Indexes of the console member search (docs/performance.md, "Member search at 1,000,000 members").

Every kind of search is an index lookup:

- identifiers (card number, full phone, plate, WeChat ids, physical card): the unique (group, kind, value) index;
- a phone's last 4–10 digits: `reverse(phone) LIKE '<reversed digits>%'` on an expression index over the reversed
  phone (PostgreSQL). An expression of the `phone` column itself, so it cannot drift from it whichever path writes
  the phone (register, phone change, import, merge, erasure): there is no copy to keep in sync;
- a name fragment: a GIN index over the name's 1-, 2- and 3-character substrings (PostgreSQL). Not pg_trgm: it
  extracts no trigram from a one- or two-character pattern (王, 王芳 — most Chinese name searches), so such a
  search would scan the whole index; our own grams answer 1–3 characters exactly and longer fragments by their
  trigrams plus a recheck;
- sorting by name across groups: `member_name_idx` (the model's index).

SQLite (the demo database) has none of the PostgreSQL objects: there the same queries scan a few thousand rows.
Both functions are IMMUTABLE (lower() and substr() are), so PostgreSQL can index them.
"""

from django.db import migrations, models

NAME_GRAMS = """
CREATE OR REPLACE FUNCTION galleria_member_name_grams(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  s text := lower(name);
  l int := char_length(s);
  grams text[] := '{}';
BEGIN
  -- every 1-, 2- and 3-character substring (GIN ignores the duplicates); PL/pgSQL: 3x faster than the SQL form
  FOR i IN 1..l LOOP
    grams := grams || substr(s, i, 1);
    IF i < l THEN grams := grams || substr(s, i, 2); END IF;
    IF i < l - 1 THEN grams := grams || substr(s, i, 3); END IF;
  END LOOP;
  RETURN grams;
END
$$
"""

NAME_QUERY = """
CREATE OR REPLACE FUNCTION galleria_member_name_query(fragment text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN char_length(fragment) <= 3 THEN ARRAY[lower(fragment)]
         ELSE (SELECT array_agg(DISTINCT substr(lower(fragment), i, 3))
               FROM generate_series(1, char_length(fragment) - 2) AS i) END
$$
"""

FORWARD = [
    NAME_GRAMS,
    NAME_QUERY,
    "CREATE INDEX IF NOT EXISTS member_name_grams_idx ON members_member USING gin (galleria_member_name_grams(name))",
    "CREATE INDEX IF NOT EXISTS member_phone_reversed_idx ON members_member (reverse(phone) text_pattern_ops)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS member_phone_reversed_idx",
    "DROP INDEX IF EXISTS member_name_grams_idx",
    "DROP FUNCTION IF EXISTS galleria_member_name_query(text)",
    "DROP FUNCTION IF EXISTS galleria_member_name_grams(text)",
]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_consent_reason_consent_recorded_by_member_erased_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["name"], name="member_name_idx"),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
