"""The floor: a minimal Django write endpoint served by the same gunicorn + production settings as the product.

One POST in one durable transaction: lock one row of a tiny table (`SELECT … FOR UPDATE`), update it, insert one
row. Whatever the POS API costs above this is the product's own work. The tables are created by
bench/pos_bench.py in the bench database (raw SQL); the models here are unmanaged and never migrated.
"""
