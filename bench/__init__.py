"""Benchmarks and measurements that are not tests: run them with `python -m bench.<name>`."""
