"""Media benchmarks: concurrent photo uploads against gunicorn (see RESULTS.md)."""
