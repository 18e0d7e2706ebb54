"""Frigate's `frigate/events` messages as an event sensor's text, so reactions fire from a camera
NVR with no glue code (`format = "frigate"`, docs/CONTRACT.md).

Frigate publishes a message whenever a tracked object changes (docs.frigate.video, MQTT):
`{"type": "new" | "update" | "end", "before": {...}, "after": {"id", "camera", "label",
"score", "top_score", "false_positive", "entered_zones", "current_zones", ...}}`, several times
for one object as it finds a better snapshot. A reaction should fire once for a person at the
door, not at every better snapshot: the text is said once per event id and zone entered
("person in front_door, score 0.86"), once for an event seen outside every zone ("person seen
by doorbell, score 0.86"), and never for an `end`, a false positive or an update that entered
no new zone. Zone and camera names are said as Frigate spells them; the interpreter reads `_`
as a space.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from typing import Any

TRACKED_EVENTS = 256  # event ids remembered at once (the oldest is forgotten first)


class FrigateEvents:
    def __init__(self) -> None:
        self.said: OrderedDict[str, set[str]] = OrderedDict()  # event id -> zones said ("" none)

    def read(self, payload: bytes) -> str | None:
        """The text for what this message adds, None when it adds nothing; ValueError when it is
        no Frigate event."""
        try:
            message: Any = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise ValueError("not JSON: not a Frigate event") from exc
        if not isinstance(message, dict) or not isinstance(message.get("after"), dict):
            raise ValueError('not a Frigate event: no "after" object')
        after, kind = message["after"], message.get("type")
        event_id, label = after.get("id"), after.get("label")
        if kind not in ("new", "update", "end") or not isinstance(event_id, str) or \
                not isinstance(label, str):
            raise ValueError("not a Frigate event: type, after.id and after.label are needed")
        if kind == "end":
            self.said.pop(event_id, None)
            return None
        if after.get("false_positive") is True:
            return None
        zones = [str(z) for z in after.get("entered_zones") or [] if isinstance(z, str)]
        said = self._said(event_id)
        new = [z for z in zones if z not in said]
        if not new and (zones or "" in said):
            return None
        said.update(new or [""])
        where = f"in {' and '.join(new)}" if new else f"seen by {after.get('camera', 'a camera')}"
        return f"{label} {where}{_score(after)}"

    def _said(self, event_id: str) -> set[str]:
        if event_id not in self.said:
            if len(self.said) >= TRACKED_EVENTS:
                self.said.popitem(last=False)
            self.said[event_id] = set()
        return self.said[event_id]


def _score(after: dict[str, Any]) -> str:
    score = after.get("top_score", after.get("score"))
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return ""
    return f", score {score:.2f}"
