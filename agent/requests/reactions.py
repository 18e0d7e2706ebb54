"""Reactions: the config's rules that act on sensor readings (`[reactions.<name>]`,
docs/CONTRACT.md).

They are checked on the main MQTT thread as each usable, fresh reading arrives: a few
comparisons, or for an event the interpreter's deterministic event reader (about 0.1 ms; never
the model). A number fires once per crossing (below `below` fires, beyond `clear` re-arms), a
boolean once per change to `equals`, an event once for each reaction whose `means` it fits
at `model.execute_threshold` or above. `while_running` holds a firing until one of those
actions runs; `cooldown_s` holds the next one back (a crossing waits for it and fires then,
an event in a cooldown is dropped, with a record).

A firing that engages the e-stop does it right there, as a message on `P/estop` would. Any
other goes through the whole gate (Pipeline.submit) on the reactions' own queue, so it never
waits behind queued commands or an inference. Every firing is a decision record with
`input_kind` `reaction` that names the reaction in its detail.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from agent.config import Config, ReactionConfig
from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.protocol import InputKind, Reason, Route
from agent.core.workers import Worker
from agent.interpret import EventMatch, EventReader
from agent.mqtt.publisher import Publisher
from agent.requests.pipeline import Pipeline, Work
from agent.safety.estop import EStop
from agent.safety.executor import Executor
from agent.sensing.frames import Frame
from agent.sensing.sensors import Reading, Sensors

NOTE_EVERY_S = 1.0  # records of events that fire nothing: at most this often per sensor


@dataclass
class Trigger:
    """A reaction's state: armed until it fires, re-armed when its reading clears."""
    armed: bool = True
    fired_at: float = float("-inf")  # monotonic


class Reactions:
    def __init__(self, config: Config, *, sensors: Sensors, pipeline: Pipeline, estop: EStop,
                 executor: Executor, publisher: Publisher, clock: Clock,
                 queue: Worker[Work]) -> None:
        self.config = config
        self.sensors = sensors
        self.pipeline = pipeline
        self.estop = estop
        self.executor = executor
        self.publisher = publisher
        self.clock = clock
        self.queue = queue  # its own: a firing never waits behind commands or an inference
        self.by_sensor: dict[str, list[str]] = {}
        for name, reaction in config.reactions.items():
            self.by_sensor.setdefault(reaction.when.sensor or reaction.when.event, []).append(name)
        self.triggers = {name: Trigger() for name in config.reactions}
        self.events = EventReader({name: (r.when.event, r.when.means)
                                   for name, r in config.reactions.items() if r.when.event})
        self.ids = itertools.count(1)
        self.noted: dict[str, float] = {}

    # ---- on the MQTT thread ----------------------------------------------------------------

    def on_reading(self, sensor: str, reading: Reading) -> None:
        """A usable reading was stored: fire what it triggers, if it is fresh."""
        names = self.by_sensor.get(sensor)
        if not names or reading.value is None or isinstance(reading.value, Frame):
            return  # no reaction reads a camera's frames (the config check says so)
        if self.clock.monotonic() - reading.measured > self.sensors.configs[sensor].max_age_s:
            return  # a late backlog says nothing about now
        if isinstance(reading.value, str):
            self._on_event(sensor, reading.value)
            return
        for name in names:
            why = self._crossed(name, reading.value)
            if why and self._ready(name):
                self.triggers[name].armed = False
                self._fire(name, f"{sensor} {self._shown(sensor, reading.value)}, {why}")

    def _crossed(self, name: str, value: float | bool) -> str:
        """Why an armed reaction fires now, or '' (re-arming it when the reading has cleared)."""
        when = self.config.reactions[name].when
        trigger = self.triggers[name]
        if when.below is not None and when.clear is not None:
            hit, why, clear = value < when.below, f"below {when.below:g}", value > when.clear
        elif when.above is not None and when.clear is not None:
            hit, why, clear = value > when.above, f"above {when.above:g}", value < when.clear
        else:
            hit, why = value == when.equals, f"equals {str(when.equals).lower()}"
            clear = not hit
        if clear:
            trigger.armed = True
        return why if hit and trigger.armed else ""

    def _ready(self, name: str) -> bool:
        """Not in its cooldown, and what it waits for (while_running) runs."""
        return not self._cooling(name) and not self._not_running(self.config.reactions[name])

    def _cooling(self, name: str) -> float:
        """Seconds of cooldown left (0 when none)."""
        left = (self.triggers[name].fired_at + self.config.reactions[name].cooldown_s
                - self.clock.monotonic())
        return max(0.0, left)

    def _not_running(self, reaction: ReactionConfig) -> str:
        """Why a reaction with while_running may not fire now, or ''."""
        wanted = reaction.while_running
        if not wanted or any(r["action"] in wanted for r in self.executor.running_now()):
            return ""
        return f"none of {', '.join(wanted)} is running"

    def _on_event(self, sensor: str, text: str) -> None:
        matches = self.events.read(sensor, text)
        threshold = self.config.model.execute_threshold
        fitting = [m for m in matches if m.confidence >= threshold]
        for match in fitting:
            held = self._held(match, text)
            if held is not None:
                self._note(sensor, held)
            else:
                self._fire(match.reaction, f"{sensor} says {text[:80]!r}: {match.why}",
                           text, match.confidence)
        if not fitting:
            self._note(sensor, _nothing_fits(sensor, text, matches, threshold))

    def _held(self, match: EventMatch, text: str) -> Decision | None:
        """The record of a fitting event that its reaction's cooldown or while_running holds
        back (it is dropped), or None."""
        name = match.reaction
        fields: dict[str, Any] = {"route": "local", "text": text[:200],
                                  "confidence": match.confidence}
        said = f"reaction {name}: fits the event ({match.confidence:.2f}), but"
        left = self._cooling(name)
        if left:
            return Decision.refused(f"reaction:{name}", InputKind.REACTION, Reason.RATE_LIMITED,
                                    f"{said} it is cooling down ({left:.0f} s of "
                                    f"{self.config.reactions[name].cooldown_s:g} s)", **fields)
        waiting = self._not_running(self.config.reactions[name])
        if waiting:
            return Decision.nothing(f"reaction:{name}", InputKind.REACTION,
                                    detail=f"{said} {waiting}", **fields)
        return None

    def _note(self, sensor: str, decision: Decision) -> None:
        """A record of an event that fired nothing, at most every NOTE_EVERY_S per sensor."""
        now = self.clock.monotonic()
        if now - self.noted.get(sensor, float("-inf")) >= NOTE_EVERY_S:
            self.noted[sensor] = now
            self.publisher.publish(decision, None, result=False)

    def _shown(self, sensor: str, value: float | bool) -> str:
        if isinstance(value, bool):
            return f"is {str(value).lower()}"
        unit = self.sensors.configs[sensor].unit
        return f"{value:g}" + (f" {unit}" if unit else "")

    def _fire(self, name: str, why: str, text: str | None = None,
              confidence: float | None = None) -> None:
        """Engage the e-stop here, or hand the action to the reactions' queue (the gate)."""
        started = self.clock.monotonic()
        self.triggers[name].fired_at = started
        do = self.config.reactions[name].do
        proposal = Decision.executed(
            f"reaction:{name}:{next(self.ids)}", InputKind.REACTION,
            action="estop" if do.estop else do.action,
            route=Route.DIRECT if text is None else "local", text=text, confidence=confidence)
        about = f"reaction {name} ({why})"
        if do.estop:
            self.estop.engage("reaction", about, proposal.id)
            self.publisher.publish(proposal.but(detail=f"{about}: e-stop engaged", latency_ms=(
                self.clock.monotonic() - started) * 1000), None)
            return
        job = self.pipeline.job(InputKind.REACTION, about)
        params = dict(do.params)
        self.pipeline.offer(self.queue, Work(
            job, lambda: self.pipeline.submit(proposal, params, job=job, reply=None),
            lambda reason, detail: self.pipeline.answer(proposal.as_refused(reason, detail),
                                                        job, None)))


def _nothing_fits(sensor: str, text: str, matches: list[EventMatch],
                  threshold: float) -> Decision:
    best = matches[0] if matches else None
    detail = (f"no reaction fits the event on {sensor}: " + (
        f"best {best.reaction} {best.confidence:.2f} ({best.why}), below "
        f"model.execute_threshold {threshold:.2f}" if best else "no reaction reads it"))
    return Decision.nothing(f"event:{sensor}", InputKind.SENSOR, reason=Reason.LOW_CONFIDENCE,
                            detail=detail,
                            route=Route.LOCAL, text=text[:200],
                            confidence=best.confidence if best else None)
