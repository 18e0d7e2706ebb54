"""What a state question is about: which devices, which sensors, the e-stop, what is running.

"Are the lights on?", "how far is the wall?", "did you turn off the socket?": each device and
sensor gets a profile of concepts from the config alone (its name, kind, the descriptions and
names of its actions; a sensor's name, description and unit), and the question picks the ones
it names. An operation alone ("is it on?") names nothing: that is asked back.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from agent.config import Config
from agent.devices import kind_of
from agent.interpret._language import english
from agent.interpret._lexicon import OPERATION_CONCEPTS, concepts
from agent.interpret._text import tokens, without_asides

UNIT_CONCEPTS = dict(english().requests.unit_concepts)
# "what are you doing?", "is the robot moving?"
ABOUT_ITSELF = tuple(english().requests.words.about_itself)


@dataclass(frozen=True)
class Asked:
    devices: tuple[str, ...] = ()
    sensors: tuple[str, ...] = ()
    estop: bool = False
    running: bool = False  # what the robot is doing now

    def __bool__(self) -> bool:
        return bool(self.devices or self.sensors or self.estop or self.running)

    def names(self) -> str:
        return ", ".join([*self.devices, *self.sensors] + ["e-stop"] * self.estop +
                         ["what is running"] * self.running)


class Subjects:
    def __init__(self, config: Config) -> None:
        self.profiles: dict[tuple[str, str], frozenset[str]] = {}
        for name, device in config.devices.items():
            words = (tokens(name.replace("_", " ")) + tokens(without_asides(device.description))
                     + tokens(device.room))
            for action_name, action in config.actions.items():
                if action.device == name:
                    words += (tokens(without_asides(action.description)) +
                              tokens(action_name.replace("_", " ")))
            found = set(concepts(words))
            if concept := kind_of(device.kind).concept:
                found.add(concept)
            self.profiles[("device", name)] = frozenset(found)
        for name, sensor in config.sensors.items():
            found = set(concepts(tokens(name.replace("_", " ")) + tokens(sensor.description)))
            unit = UNIT_CONCEPTS.get(sensor.unit.lower())
            if unit:
                found.add(unit)
            self.profiles[("sensor", name)] = frozenset(found)
        df = Counter(c for p in self.profiles.values() for c in p)
        self.weight = {c: math.log(1 + len(self.profiles) / k) for c, k in df.items()}
        self.moving = tuple(n for n, d in config.devices.items() if kind_of(d.kind).moves)

    def about(self, text: str) -> Asked:
        words = tokens(text)
        joined = " ".join(words)
        estop = "estop" in words or "e stop" in joined or "emergency" in words
        query = set(concepts(words))
        scores: dict[tuple[str, str], float] = {}
        for key, profile in self.profiles.items():
            things = [c for c in query & profile if c not in OPERATION_CONCEPTS]
            if things:  # an operation alone names nothing
                scores[key] = sum(self.weight[c] for c in query & profile)
        if not scores:
            itself = any(w in ABOUT_ITSELF for w in words)
            return Asked(devices=self.moving if itself else (), estop=estop, running=itself)
        top = max(scores.values())
        best = [key for key, score in scores.items() if score == top]
        return Asked(tuple(n for kind, n in best if kind == "device"),
                     tuple(n for kind, n in best if kind == "sensor"), estop)
