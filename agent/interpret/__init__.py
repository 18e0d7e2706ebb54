"""The local interpreter: what a short English sentence asks for. One of the config's actions
with parameters and a confidence; or later (`at`), several in a row (`steps`), a question about
the robot (`asked`), a cancellation, or nothing now (`form`: negated, conditional,
not_a_request). A library: it reads the config and decides nothing; what happens to an
interpretation (execute, schedule, answer, ask back, refuse) is agent.text.decide's and the
safety gate's.

    interpreter = Interpreter(config)          # the deterministic matcher alone
    interpreter.scorer = ModelProcess(*model_args(config))   # plus the local model
    interpretation = interpreter.interpret("back up 20 centimetres", now)

    events = EventReader({"someone_at_door": ("camera", "a person is at the front door")})
    events.read("camera", "someone is standing at the door")   # [EventMatch(..., 0.92, ...)]

The modules behind this one are private; how they work is in docs/interpreter.md.
"""

from agent.interpret._catalogue import (
    DEFAULT_MODEL,
    ModelError,
    RuntimeMissing,
    bundled_path,
    catalogue,
    describe_actions,
    load_scorer,
    model_args,
    resolve,
    runtime_missing,
)
from agent.interpret._events import EventMatch, EventReader
from agent.interpret._interpreter import Interpretation, Interpreter, Scorer
from agent.interpret._questions import Asked
from agent.interpret._time import VagueTime, When, find_time, warm_up
from agent.interpret._worker import SCORE_TIMEOUT_S, ModelProcess

__all__ = [
    "DEFAULT_MODEL",
    "SCORE_TIMEOUT_S",
    "Asked",
    "EventMatch",
    "EventReader",
    "Interpretation",
    "Interpreter",
    "ModelError",
    "ModelProcess",
    "RuntimeMissing",
    "Scorer",
    "VagueTime",
    "When",
    "bundled_path",
    "catalogue",
    "describe_actions",
    "find_time",
    "load_scorer",
    "model_args",
    "resolve",
    "runtime_missing",
    "warm_up",
]
