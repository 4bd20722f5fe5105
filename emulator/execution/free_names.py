"""Names a module's code reads as globals but never defines, imports or gets from builtins.

``functions.create(function_handle=handle)`` ships only the source of ``handle`` (the SDK writes
``getsource(handle)`` as handler.py), so closures, module-level helpers and imports that ``handle``
relies on in the test's own module do not exist where CDF runs it: the call fails there with a
NameError. Finding them at deployment lets the emulator say so before the first call.
"""

from __future__ import annotations

import ast
import builtins
import symtable

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__builtins__"}


def unbound_globals(source: str, filename: str = "handler.py") -> list[str]:
    """Global names read somewhere in ``source`` and bound nowhere in it, sorted; [] if unsure
    (a syntax error, ``from x import *``)."""
    try:
        tree = ast.parse(source, filename)
        top = symtable.symtable(source, filename, "exec")
    except (SyntaxError, ValueError):
        return []
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree)):
        return []  # star imports bind names nobody can list
    module_names = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    read: set[str] = set()
    stack = list(top.get_children())
    while stack:
        table = stack.pop()
        stack.extend(table.get_children())
        for sym in table.get_symbols():
            if sym.is_global() and sym.is_referenced():
                read.add(sym.get_name())
    for sym in top.get_symbols():
        if sym.is_referenced():
            read.add(sym.get_name())
    return sorted(name for name in read - module_names - _BUILTINS)
