"""Extraction pipelines: pipelines, their config revisions and their reported runs (14 operations)."""
