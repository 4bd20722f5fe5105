"""Units keep no per-project state: the catalog is CDF's, the same for every project."""

from __future__ import annotations

PARTS: tuple[type, ...] = ()
