"""Benchmarks. They live apart from the tests, compare against peers in the same run and
only measure: a missed target is reported, never raised. Run one with ``foleykit bench``."""
