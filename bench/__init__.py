"""Benchmarks (not tests). See bench/README.md and docs/performance.md."""
