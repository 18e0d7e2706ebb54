"""What a device kind is: one class that knows everything about its kind (gpiozero's pattern).

A kind says what it can do (its operations, the parameters each reads and their defaults, which
run for a time and which only make it safer), what wiring it needs, whether it moves, what text
calls it, how its state is said in an answer, and how it drives its hardware, goes safe and
moves the simulated robot. Defining a subclass with `kind = "..."` registers it: the config
check, the gate, the interpreter, answers, `safe-outputs` and the simulated world read the
class, and no module outside a kind's own tests its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

Params = dict[str, Any]


class Wiring(Protocol):
    """What a kind reads of its device's configuration (agent.config.DeviceConfig)."""

    @property
    def kind(self) -> str: ...
    @property
    def pin(self) -> int | None: ...
    @property
    def pins(self) -> list[int] | None: ...
    @property
    def left(self) -> tuple[int, int] | None: ...
    @property
    def right(self) -> tuple[int, int] | None: ...
    @property
    def forward(self) -> int | None: ...
    @property
    def backward(self) -> int | None: ...
    @property
    def active_high(self) -> bool: ...
    @property
    def speed_mps(self) -> float: ...
    @property
    def turn_dps(self) -> float: ...
    @property
    def min_angle(self) -> float: ...
    @property
    def max_angle(self) -> float: ...
    @property
    def topic(self) -> str: ...
    @property
    def heartbeat_s(self) -> float | None: ...
    @property
    def moving(self) -> bool: ...


class Delivery(Protocol):
    """What publishing a message returns (paho's MQTTMessageInfo)."""

    def wait_for_publish(self, timeout: float | None = None) -> None: ...
    def is_published(self) -> bool: ...


Publish = Callable[[str, str], Delivery]


@dataclass(frozen=True)
class OpSpec:
    defaults: dict[str, Any] = field(default_factory=dict)  # optional parameters and their values
    required: frozenset[str] = frozenset()
    timed: bool = False  # runs for a computed time, then the device goes safe
    safe: bool = False  # only ever makes the device safer: never rate limited, allowed in e-stop
    choices: dict[str, frozenset[str]] = field(default_factory=dict)  # fixed vocabularies
    any_params: bool = False  # takes whatever parameters the action declares (an mqtt device)

    @property
    def params(self) -> frozenset[str]:
        return self.required | frozenset(self.defaults)


Ops = dict[str, OpSpec]  # a kind's operations, by name
ON_OFF: Ops = {"on": OpSpec(), "off": OpSpec(safe=True)}
KINDS: dict[str, type[Output]] = {}  # every kind defined so far, by name


def kind_of(name: str) -> type[Output]:
    """The class of a kind (the config check has refused any name not in KINDS)."""
    return KINDS[name]


def doing(op: str, device: str) -> str:
    """An operation on a device, in words: "move on drive", but "headlight on", not "on on
    headlight"."""
    return f"{device} {op}" if op in ("on", "off") else f"{op} on {device}"


class Output:
    """One kind of device, and one configured device of that kind. Subclasses set what the kind
    is (the class attributes), make their gpiozero object in create() and implement drive();
    the other methods have defaults that most kinds keep."""

    kind: ClassVar[str]
    ops: ClassVar[Ops]
    wiring: ClassVar[tuple[str, ...]]  # the device configuration keys it needs
    pin_names: ClassVar[tuple[str, ...]] = ()  # wired with a list of pins: what each one is
    # It moves the robot or a part of it: "stop" in text means its stop, and it never stays on
    # past its action's max_duration_s.
    moves: ClassVar[bool] = False
    # It moves a part without being what "stop" stops, and may hold a position (a servo's
    # arm): like every kind that moves, it is made safe when the e-stop's link is lost.
    moves_a_part: ClassVar[bool] = False
    concept: ClassVar[str] = ""  # what text calls any device of the kind ("light"), if anything
    # A value may be left to the robot ("a different colour"): any value is harmless, and the
    # one it holds is known from its state.
    picks_a_value: ClassVar[bool] = False
    takes_colour_as_result: ClassVar[bool] = False  # "make the living room blue"
    heartbeat: ClassVar[bool] = False  # it may say its operation again while it holds
    needs_broker: ClassVar[bool] = False  # it is made safe by an MQTT message
    # Its gpiozero class drives its pins with PWM: a pin factory without PWM (gpiozero's native
    # one) cannot create it (agent.devices.pins, robot-agent doctor).
    pwm: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            KINDS[cls.kind] = cls

    # ---- the kind, without hardware ---------------------------------------------------------

    @classmethod
    def op_spec(cls, op: str) -> OpSpec | None:
        """The operation, or None when the kind has no such operation."""
        return cls.ops.get(op) or cls.ops.get("*")

    @classmethod
    def is_safe_op(cls, op: str) -> bool:
        spec = cls.op_spec(op)
        return spec is not None and spec.safe

    @classmethod
    def stops_on_link_loss(cls, device: Wiring) -> bool:
        """Whether a device of this kind is made safe when the e-stop's link is lost: a kind
        that moves or moves a part, or any device its config marks `moving`."""
        return cls.moves or cls.moves_a_part or device.moving

    @classmethod
    def check_wiring(cls, device: Wiring) -> list[str]:
        problems = [f"{key}: a {cls.kind} device needs it" for key in cls.wiring
                    if not getattr(device, key)]
        if cls.pin_names and device.pins and len(device.pins) != len(cls.pin_names):
            count = ("no", "one", "two", "three", "four")[len(cls.pin_names)]
            problems.append(f"pins: an {cls.kind} needs {count} pins: "
                            f"{', '.join(cls.pin_names)}")
        return problems

    @classmethod
    def duration_s(cls, device: Wiring, op: str, params: Params) -> float | None:
        """How long a timed operation runs with these parameters; None for an untimed one."""
        spec = cls.op_spec(op)
        if spec is None or not spec.timed:
            return None
        return float({**spec.defaults, **params}["duration_s"])

    @classmethod
    def value_problem(cls, op: str, name: str, value: Any) -> str | None:
        """What the device itself cannot accept, beyond the action's own schema."""
        spec = cls.op_spec(op)
        choices = spec.choices.get(name) if spec else None
        if choices is not None and value not in choices:
            return f"{name} must be one of {sorted(choices)}"
        return None

    @classmethod
    def said(cls, shown: str, be: str, state: Mapping[str, Any], then: str) -> str:
        """Its state in a sentence ("The headlight is on."); then: " (last operation: on)" or
        ""."""
        return f"The {shown} {be} {'on' if state.get('on') else 'off'}{then}."

    # ---- one device ------------------------------------------------------------------------

    def __init__(self, name: str, config: Wiring, hw: Any) -> None:
        self.name = name
        self.config = config
        self.hw = hw
        self.last_op = "safe"
        self.heartbeat_s = config.heartbeat_s  # only a kind with a heartbeat has one (config)

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        raise NotImplementedError

    def apply(self, op: str, params: Params) -> None:
        spec = self.op_spec(op)
        self.drive(op, {**(spec.defaults if spec else {}), **params})
        self.last_op = op

    def drive(self, op: str, p: Params) -> None:
        raise NotImplementedError

    def safe(self) -> None:
        self.hw.off()
        self.last_op = "safe"

    def refresh(self) -> None:
        """Say the current operation again (a heartbeat); only a kind with a heartbeat has one."""

    def safe_confirmed(self, timeout: float) -> bool:
        """Whether the device is known to be safe, waiting at most timeout for the proof: a pin
        is safe once driven; an mqtt device once the broker has acknowledged its safe message."""
        return True

    def motion(self) -> tuple[float, float] | None:
        """How the robot moves now because of this device, for the simulated world: (metres a
        second forward, degrees a second anticlockwise); None for a device that moves no robot."""
        return None

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "op": self.last_op, **self.details()}

    def details(self) -> dict[str, Any]:
        return {"on": bool(self.hw.value)}

    def close(self) -> None:
        if hasattr(self.hw, "close"):
            self.hw.close()


class SwitchedOutput(Output):
    """on and off on one pin; a timed operation (beep, pulse) is on until the executor ends it."""

    timed_op: ClassVar[str] = ""
    gpiozero_class: ClassVar[str] = ""  # the gpiozero class that drives one pin
    wiring = ("pin",)

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        import gpiozero

        make = getattr(gpiozero, cls.gpiozero_class)
        return cls(name, config, make(config.pin, pin_factory=pin_factory))

    def drive(self, op: str, p: Params) -> None:
        self.hw.on() if op in ("on", self.timed_op) else self.hw.off()
