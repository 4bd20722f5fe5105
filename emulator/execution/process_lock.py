"""The one lock for swaps of process-wide state (sys.modules, sys.path, os.environ, sys.stdout).

That state belongs to the interpreter, not to an emulator, so its lock is process-wide too.
"""

from __future__ import annotations

import threading

PROCESS_LOCK = threading.RLock()
