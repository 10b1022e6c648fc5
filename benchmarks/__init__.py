"""Benchmarks and load tests of flask-jsonp: ``python -m benchmarks``."""
