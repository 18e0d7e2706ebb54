"""'Did you mean ...?' for a name a person typed (an action, a parameter, a value, a field): the
closest of the names there are, by the standard library's difflib, or nothing when none is
close."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6  # difflib's ratio: 'distnce_m' -> 'distance_m' 0.95, 'fly' -> 'turn' 0.29


def closest(typed: object, names: Iterable[object]) -> str | None:
    """The name closest to typed, if one is close enough."""
    if not isinstance(typed, str | int | float) or isinstance(typed, bool):
        return None
    found = difflib.get_close_matches(str(typed), [str(name) for name in names], n=1,
                                      cutoff=CUTOFF)
    return found[0] if found else None


def did_you_mean(typed: object, names: Iterable[object]) -> str:
    """' (did you mean X?)', or '' when nothing is close."""
    found = closest(typed, names)
    return f" (did you mean {found}?)" if found is not None else ""
