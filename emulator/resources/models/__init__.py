"""Data modeling schema: spaces, containers, views and data models (the DMS "models" API)."""
