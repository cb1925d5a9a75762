"""The online mall's product search index (docs/design/online-mall.md §8; the members name-search pattern of
members/0003_search_indexes.py).

`Product.search_text` is already normalised by the application (NFKC, lower case: commerce/rules_catalog.py), so the
functions take it as it is:

- `galleria_product_grams(text)`: every 1- and 2-character substring (GIN ignores the duplicates). Chinese queries are
  mostly 2 characters (奶茶); pg_trgm extracts no trigram from them and degenerates to a full scan, so we index our own
  1- and 2-grams. A longer query is found by its bigrams (GIN ANDs them) and rechecked with `strpos`;
- `galleria_product_query(text)`: the query's grams — the query itself when it has 1 or 2 characters, else its
  distinct bigrams.

The GIN index is partial (listed online products only), so the search's WHERE must repeat its predicate literally.
PostgreSQL only: SQLite (the demo) scans with `instr`. Both functions are IMMUTABLE (substr is), so they can be
indexed and the query's grams are folded to a constant at plan time.
"""

from django.db import migrations

PRODUCT_GRAMS = """
CREATE OR REPLACE FUNCTION galleria_product_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  l int := char_length(t);
  grams text[] := '{}';
BEGIN
  FOR i IN 1..l LOOP
    grams := grams || substr(t, i, 1);
    IF i < l THEN grams := grams || substr(t, i, 2); END IF;
  END LOOP;
  RETURN grams;
END
$$
"""

PRODUCT_QUERY = """
CREATE OR REPLACE FUNCTION galleria_product_query(q text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN char_length(q) <= 2 THEN ARRAY[q]
         ELSE (SELECT array_agg(DISTINCT substr(q, i, 2)) FROM generate_series(1, char_length(q) - 1) AS i) END
$$
"""

FORWARD = [
    PRODUCT_GRAMS,
    PRODUCT_QUERY,
    "CREATE INDEX IF NOT EXISTS commerce_product_grams ON commerce_product"
    " USING gin (galleria_product_grams(search_text))"
    " WHERE shop = 'online' AND status = 'on_sale' AND NOT is_blocked",
]

BACKWARD = [
    "DROP INDEX IF EXISTS commerce_product_grams",
    "DROP FUNCTION IF EXISTS galleria_product_query(text)",
    "DROP FUNCTION IF EXISTS galleria_product_grams(text)",
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
        ("commerce", "0002_online_mall"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
