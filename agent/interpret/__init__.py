"""The local interpreter: what a short English sentence asks for. One of the config's actions
with parameters and a confidence; or later (`at`), several in a row (`steps`), a question about
the robot (`asked`), a cancellation, or nothing now (`form`: negated, conditional,
not_a_request). A library: it reads the config and decides nothing; what happens to an
interpretation (execute, schedule, answer, ask back, refuse) is agent.text.decide's and the
safety gate's.

    interpreter = Interpreter(config)          # the deterministic matcher alone
    interpreter.scorer = ModelProcess(*model_args(config))   # plus the local model
    interpretation = interpreter.interpret("back up 20 centimetres", now)

    reader = load_reader(config)               # the fine-tuned reading adapter (or the worker's)
    bound = bind_frame(config, parse_frame(reader.read("fwd 2 ft").answer))  # move, 0.61 m

    events = EventReader({"someone_at_door": ("camera", "a person is at the front door")})
    events.read("camera", "someone is standing at the door")   # [EventMatch(..., 0.92, ...)]

The modules behind this one are private; how they work is in docs/interpreter.md.
"""

from agent.interpret._binder import Bound, bind_call, bind_frame, listed
from agent.interpret._catalogue import (
    DEFAULT_ADAPTER,
    DEFAULT_MODEL,
    ModelError,
    RuntimeMissing,
    adapter_path,
    bundled_path,
    catalogue,
    describe_actions,
    load_reader,
    load_scorer,
    model_args,
    resolve,
    runtime_missing,
)
from agent.interpret._events import EventMatch, EventReader
from agent.interpret._frame import Call, Frame, ModelReading, parse_call, parse_frame
from agent.interpret._interpreter import Interpretation, Interpreter, ReadingModel, Scorer
from agent.interpret._questions import Asked
from agent.interpret._time import VagueTime, When, find_time, warm_up
from agent.interpret._worker import SCORE_TIMEOUT_S, ModelProcess, ReadingSetup, reading_setup

__all__ = [
    "DEFAULT_ADAPTER",
    "DEFAULT_MODEL",
    "SCORE_TIMEOUT_S",
    "Asked",
    "Bound",
    "Call",
    "EventMatch",
    "EventReader",
    "Frame",
    "Interpretation",
    "Interpreter",
    "ModelError",
    "ModelProcess",
    "ModelReading",
    "ReadingModel",
    "ReadingSetup",
    "RuntimeMissing",
    "Scorer",
    "VagueTime",
    "When",
    "adapter_path",
    "bind_call",
    "bind_frame",
    "bundled_path",
    "catalogue",
    "describe_actions",
    "find_time",
    "listed",
    "load_reader",
    "load_scorer",
    "model_args",
    "parse_call",
    "parse_frame",
    "reading_setup",
    "resolve",
    "runtime_missing",
    "warm_up",
]
