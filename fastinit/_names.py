"""The error for a name fastinit does not know (init scheme, activation, dataset, optimizer):
it suggests the known names closest to the one given, then lists them all."""
from __future__ import annotations

import difflib


def unknown(kind: str, name, known, also: str = "", aliases=()) -> ValueError:
    """ValueError "unknown {kind} {name!r} (did you mean ...?); known: ...{also}".
    Suggestions come from the known names and their aliases (not listed)."""
    known = list(known)
    candidates = known + [a for a in aliases if a not in known]
    typed = str(name).strip().lower()
    # "xavier" -> xavier_normal, xavier_uniform: a family prefix, too short for difflib's ratio.
    close = [k for k in candidates if k.startswith(typed + "_")] or difflib.get_close_matches(typed, candidates, n=3)
    hint = ""
    if close:
        close = [repr(k) for k in close]
        hint = f" (did you mean {', '.join(close[:-1]) + ' or ' if len(close) > 1 else ''}{close[-1]}?)"
    return ValueError(f"unknown {kind} {name!r}{hint}; known: {', '.join(known)}{also}")
