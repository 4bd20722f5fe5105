"""The dev-server dashboard served at /_emulator/ui (see docs/dashboard.md)."""
