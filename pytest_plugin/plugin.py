"""Fixtures and markers for the CDF Functions emulator."""

from __future__ import annotations
