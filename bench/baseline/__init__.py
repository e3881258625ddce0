"""Baselines for the benchmarks: a bare view, a bare template page and a minimal
form-and-INSERT view.

They live beside the project, not in it, so the baselines run through the very same
settings, middleware and gunicorn setup as Chorus without touching app code.
"""
