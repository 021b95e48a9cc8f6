"""Progress bars for long work (tqdm, optional): shown on a terminal and in a Jupyter notebook,
never in logs, pipes or CI output."""
from __future__ import annotations

import sys


def interactive() -> bool:
    """True if someone watches: stderr is a terminal, or this runs in a Jupyter kernel (whose
    stderr is no terminal but shows a bar)."""
    err = sys.stderr
    if err is not None and getattr(err, "isatty", None) is not None and err.isatty():
        return True
    ipython = sys.modules.get("IPython")  # imported by every Jupyter kernel, never by us
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def bar(enabled: bool, total: int, unit: str):
    """A tqdm bar (update/set_postfix/close), or None: not enabled, nobody watching, or no tqdm."""
    if not enabled or not interactive():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit=unit, leave=False)
