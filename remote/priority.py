"""The web path's threads yield the CPU to the wall's (frame loop, render threads, receivers).

Linux schedules threads one by one: ``os.setpriority`` on a thread's native id raises that thread's
nice value only (raising it needs no privilege). Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import threading

WEB_NICE = 10
"""How much nicer than the process the web viewer's feed and encoder threads run."""


def lower_priority(nice: int = WEB_NICE) -> bool:
    """Run the calling thread ``nice`` steps nicer than now; False where that is not possible."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None:
        return False
    tid = threading.get_native_id()
    try:
        setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        return False
    return True
