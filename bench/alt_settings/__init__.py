"""Settings variants to measure without touching config/: `pos_bench.py --settings bench.alt_settings.<name>`."""
