"""The CDF resource families beyond Functions, each a package under emulator/resources/<family>/.

Each family package has ``domain.py`` (its ``StatePart`` classes, listed in ``PARTS``, and its
rules, applied under the part's lock), ``routes.py`` (parse -> domain -> wire; exports ``routes``)
and, where records are not kept wire-shaped, ``wire.py``. Adding a family is one line in
``FAMILIES``. Families depend on the core (state, errors, validation, spec), never the reverse.
"""

from __future__ import annotations

import importlib
from functools import cache

from starlette.routing import BaseRoute

from emulator.state import StatePart

# Package names under emulator/resources/, in routing order (fixed paths of one family must not
# be shadowed by another's path parameters).
FAMILIES: tuple[str, ...] = (
    "iam", "datasets", "raw", "extpipes",
    "files", "assets", "events", "labels", "units", "datapoints", "timeseries", "models", "instances",
)  # fmt: skip


def routes() -> list[BaseRoute]:
    """Every family's routes, mounted under /api/v1/projects/{project}."""
    found: list[BaseRoute] = []
    for name in FAMILIES:
        found.extend(importlib.import_module(f"emulator.resources.{name}.routes").routes)
    return found


@cache
def parts() -> dict[str, type[StatePart]]:
    """Every family's StatePart classes by their ``name`` (state dumps and state files)."""
    found: dict[str, type[StatePart]] = {}
    for name in FAMILIES:
        for kind in getattr(importlib.import_module(f"emulator.resources.{name}.domain"), "PARTS", ()):
            found[kind.name] = kind
    return found
