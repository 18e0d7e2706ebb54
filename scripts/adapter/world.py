"""Made-up robots for training the reading adapter: device types, their actions as a config
would declare them, and the many ways people ask for each.

A generated config picks a few device types and names each; a generated request picks one of
its actions (or one of a type the config lacks, which it must not have) and says it in one of
many voices. Every request carries its label: the action, the value and the number said, and
the frame fields (agent.interpret._frame) the model is taught to read. Nothing here is copied
from an evaluation set; the words are general English for robots and home devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# An action type: (canonical op, config op, name pattern, description patterns, parameter,
# request templates). {n}: the device as said; {v}: a value; {q}: a quantity phrase.
# The parameter: "" (none), or ";"-separated "enum:NAME:a|b|c" (values; none listed: colours)
# and "num:NAME" (a number; its unit from the name, as in a config)


@dataclass(frozen=True)
class ActionType:
    op: str  # the frame's operation word
    config_op: str  # what a config calls the operation
    names: tuple[str, ...]  # action name patterns: {d} is the device's name
    descriptions: tuple[str, ...]  # {n} the device's name in words
    param: str  # "" | "enum:NAME:a|b|c" | "num:NAME"
    templates: tuple[str, ...]


@dataclass(frozen=True)
class DeviceType:
    key: str
    kind: str
    thing: str  # the frame's word for it
    names: tuple[str, ...]  # device names a config may give it
    nouns: tuple[str, ...]  # other ways people name it ("the lamp", "the seedlings' lights")
    actions: tuple[ActionType, ...] = field(default_factory=tuple)


COLOURS = ("red", "green", "blue", "white", "yellow", "purple", "pink", "orange", "warm white",
           "cyan", "magenta")
ON = ("turn on {n}", "switch on {n}", "turn {n} on", "switch {n} on", "{n} on", "power on {n}",
      "put {n} on", "get {n} going", "fire up {n}", "{n} on please", "i need {n} on",
      "activate {n}", "enable {n}", "start {n}", "flip {n} on", "bring {n} on", "on with {n}")
OFF = ("turn off {n}", "switch off {n}", "turn {n} off", "switch {n} off", "{n} off",
       "power off {n}", "shut off {n}", "kill {n}", "cut {n}", "{n} off please",
       "deactivate {n}", "disable {n}", "shut {n} down", "flip {n} off", "no more {n}",
       "power down {n}")
LIGHT_ON = (*ON, "light up {n}", "lights on", "give me some light", "i can't see, {n} on",
            "illuminate {n}")
LIGHT_OFF = (*OFF, "lights out", "{n} out", "kill the lights", "put {n} out", "darkness please",
             "extinguish {n}")
COLOUR = ("make {n} {v}", "turn {n} {v}", "set {n} to {v}", "{n} {v}", "change {n} to {v}",
          "{v} {n}", "{n} to {v}", "switch {n} to {v}", "i want {n} {v}", "go {v}",
          "bathe the room in {v}", "paint the room {v} with {n}", "{v} light please",
          "give me {v}", "colour {n} {v}", "{n} in {v}", "{v} on {n}", "flood it with {v}",
          "make it {v} in here", "swap {n} to {v}", "{n} colour {v}", "tint {n} {v}")
BRIGHTER = ("brighten {n}", "make {n} brighter", "turn {n} up", "{n} brighter", "more light",
            "{n} up", "raise {n}", "increase {n}", "boost {n}", "crank {n} up",
            "it's too dark, brighten {n}", "turn up the brightness", "brighter please",
            "pump up {n}", "bump {n} up")
DIMMER = ("dim {n}", "make {n} dimmer", "turn {n} down", "{n} dimmer", "less light",
          "{n} down", "lower {n}", "decrease {n}", "soften {n}", "tone down {n}",
          "it's too bright, dim {n}", "turn down the brightness", "dimmer please",
          "bring {n} down a notch", "knock {n} down")
MOVE = ("{go} {dir} {q}", "{go} {q} {dir}", "{dir} {q}", "{go} {dir}", "{dirshort} {q}",
        "{go} {dir} by {q}", "please {go} {dir} {q}", "{q} {dir}", "{go} {dir} about {q}")
TURN = ("turn {dir}", "turn {dir} {q}", "{tv} around", "turn around", "do a u-turn",
        "about face", "{tv} all the way around", "face the other way", "{tv} {dir}",
        "{tv} {dir} {q}", "{tv} {q} {dir}",
        "{tv} to the {dir}", "hang a {dir}", "make a {dir}", "{dir} {q}", "go {dir}",
        "turn {q} to the {dir}", "{dirshort} {q}", "take a {dir}")
STOP = ("stop", "halt", "stop {n}", "halt {n}", "freeze", "stop moving", "hold it", "whoa")
PULSE_DEFAULT = ("start {n}", "run {n}", "{n} please", "turn on {n}", "get {n} going",
                 "fire up {n}", "kick off {n}", "set {n} off", "activate {n}", "{n} now")


def _num(name: str) -> str:
    return f"num:{name}"


LIGHT_COLOUR_ACTIONS = (
    ActionType("on", "on", ("{d}_on", "{d}_up", "on_{d}"),
               ("switch the {n} on", "turn the {n} on"), "", LIGHT_ON),
    ActionType("off", "off", ("{d}_off", "{d}_down", "off_{d}"),
               ("switch the {n} off", "turn the {n} off"), "", LIGHT_OFF),
    ActionType("color", "color", ("{d}_color", "{d}_colour", "{d}_hue", "{d}_gel",
                                  "{d}_spectrum", "tint"),
               ("change the colour of the {n}", "set the colour of the {n}",
                "give the {n} a colour", "change the {n}'s colour"), "enum:color:", COLOUR),
    ActionType("brighter", "brighter", ("{d}_brighter", "{d}_up", "brighten"),
               ("make the {n} brighter", "turn the {n} up"), "", BRIGHTER),
    ActionType("dimmer", "dimmer", ("{d}_dimmer", "{d}_down", "dim"),
               ("make the {n} dimmer", "turn the {n} down"), "", DIMMER),
)
LIGHT_ACTIONS = (*LIGHT_COLOUR_ACTIONS[:2], ActionType(
    "level", "brightness", ("{d}_level", "{d}_brightness"), ("set the {n}'s brightness",),
    _num("level"), ("{n} to {q}", "set {n} to {q}", "{n} at {q}", "dim {n} to {q}",
                    "{n} {q} brightness", "brightness {q}")))


def _onoff(extra_on: tuple[str, ...] = (), extra_off: tuple[str, ...] = ()
           ) -> tuple[ActionType, ...]:
    return (ActionType("on", "on", ("{d}_on", "on_{d}"), ("switch the {n} on",),
                       "", ON + extra_on),
            ActionType("off", "off", ("{d}_off", "off_{d}"), ("switch the {n} off",),
                       "", OFF + extra_off))


def _pulse(op: str, names: tuple[str, ...], descriptions: tuple[str, ...],
           templates: tuple[str, ...], param: str = "") -> ActionType:
    return ActionType(op, "pulse", names, descriptions, param, templates + PULSE_DEFAULT)


WHEEL_ACTIONS = (
    ActionType("move", "move", ("move", "drive", "go", "roll", "dolly", "travel"),
               ("drive straight forward or backward by a distance",
                "move the {n} forward or backward by a distance",
                "roll forward or back by a distance"),
               "enum:direction:forward|backward;num:distance_m", MOVE),
    ActionType("turn", "turn", ("turn", "spin", "rotate", "pivot"),
               ("turn on the spot to the left or right", "rotate the {n} left or right",
                "pivot on the spot"), "enum:direction:left|right;num:degrees", TURN),
    ActionType("stop", "stop", ("stop", "halt", "brake"),
               ("stop all motion immediately", "stop the {n}"), "", STOP),
)

DEVICE_TYPES: tuple[DeviceType, ...] = (
    DeviceType("wheels", "robot", "wheels",
               ("drive", "wheels", "base", "tracks", "rail", "chassis", "cart"),
               ("the robot", "yourself", "the wheels", "the rover", "the base", "the cart"),
               WHEEL_ACTIONS),
    DeviceType("colour_light", "rgb_led", "light",
               ("lamp", "lights", "kitchen_lights", "floor_lamp", "key_light", "grow_lights",
                "led_strip", "desk_lamp", "bedside_lamp", "mood_light", "ceiling_lights"),
               ("the lights", "the lamp", "the light", "the bulbs", "the lighting", "the leds",
                "the strip", "the glow"), LIGHT_COLOUR_ACTIONS),
    DeviceType("plain_light", "pwm_led", "light",
               ("headlight", "spotlight", "work_lamp", "porch_light", "ceiling_light",
                "torch", "reading_lamp"),
               ("the light", "the lamp", "the beam", "the lights"), LIGHT_ACTIONS),
    DeviceType("plug", "relay", "plug", ("plug", "socket", "smart_plug", "outlet"),
               ("the socket", "the plug", "the outlet", "the power point", "the wemo"),
               _onoff(("give the socket power",), ("cut the power to the socket",))),
    DeviceType("fan", "relay", "fan", ("fan", "extractor", "ceiling_fan", "desk_fan"),
               ("the fan", "the extractor", "the breeze", "the blower", "the air"),
               _onoff(("i'm hot, fan on", "get some air moving", "cool me down"),
                      ("i'm cold, fan off", "stop the breeze"))),
    DeviceType("heater", "relay", "heater", ("heater", "heat_mat", "radiator", "warmer"),
               ("the heater", "the heat", "the radiator", "the warmer", "the heating"),
               _onoff(("warm it up", "i'm freezing, heat on"), ("it's too hot, heat off",))),
    DeviceType("tv", "relay", "tv", ("tv", "telly", "television", "screen"),
               ("the tv", "the telly", "the television", "the box"), _onoff()),
    DeviceType("coffee", "relay", "coffee", ("coffee", "espresso", "coffee_maker"),
               ("the coffee machine", "the espresso machine", "the coffee maker"),
               (_pulse("start", ("coffee_start", "brew", "coffee", "make_coffee"),
                       ("start the coffee maker", "brew a coffee"),
                       ("make me a coffee", "brew a coffee", "i need caffeine",
                        "espresso please", "a cup of joe please", "coffee time",
                        "pour me a latte", "brew a pot", "one coffee")),)),
    DeviceType("vacuum", "relay", "vacuum", ("vacuum", "cleaner", "roomba", "hoover"),
               ("the vacuum", "the hoover", "the roomba", "the cleaner", "the robot vacuum"),
               (_pulse("start", ("vacuum_start", "clean", "hoover", "vacuum"),
                       ("start the robot vacuum cleaner", "start cleaning the floor"),
                       ("clean the floor", "vacuum the house", "hoover the lounge",
                        "do the cleaning", "the floor is dirty, clean it", "tidy the floor",
                        "suck up the crumbs", "run a clean")),)),
    DeviceType("kettle", "relay", "kettle", ("kettle",), ("the kettle",),
               (_pulse("start", ("kettle", "boil", "kettle_on"), ("boil the kettle",),
                       ("put the kettle on", "boil some water", "boil the kettle",
                        "i'd like tea", "make me a cuppa", "hot water please")),)),
    DeviceType("pump", "relay", "pump", ("pump", "sprinkler", "watering"),
               ("the pump", "the sprinkler", "the watering"),
               (_pulse("start", ("water", "pump_run", "irrigate"),
                       ("run the watering pump for a while", "water the plants"),
                       ("water the plants", "water the plants for {q}", "give the plants a drink",
                        "irrigate for {q}", "the soil is dry", "run the pump {q}",
                        "sprinkle the garden", "hydrate the seedlings for {q}"),
                       _num("duration_s")),)),
    DeviceType("fogger", "relay", "fog", ("fogger", "fog_machine", "smoke"),
               ("the fog machine", "the fogger", "the smoke machine"),
               (_pulse("start", ("fog", "puff", "smoke"), ("puff the fog machine",),
                       ("puff some fog", "fog please", "a bit of haze", "smoke for {q}",
                        "give me atmosphere", "fog for {q}"), _num("duration_s")),)),
    DeviceType("horn", "buzzer", "horn", ("horn", "buzzer", "siren", "bell", "beeper"),
               ("the horn", "the buzzer", "the siren", "the bell"),
               (ActionType("beep", "beep", ("honk", "beep", "buzz", "siren", "ring"),
                           ("sound the {n} briefly", "sound the {n}, once or a few times"),
                           _num("times"),
                           ("honk", "beep", "honk {q}", "beep {q}", "sound {n}",
                            "sound {n} {q}", "toot", "hoot", "make some noise",
                            "give a beep", "buzz {q}", "ring {n}", "let me hear {n}",
                            "honk at them", "blast {n}")),)),
    DeviceType("door", "servo", "door", ("door", "gate", "hatch", "flap"),
               ("the door", "the gate", "the hatch", "the flap"),
               (ActionType("open", "open", ("{d}_open", "open_{d}"), ("open the {n}",), "",
                           ("open {n}", "{n} open", "let me in", "swing {n} open",
                            "unlatch {n}", "crack {n} open")),
                ActionType("close", "close", ("{d}_close", "close_{d}"), ("close the {n}",),
                           "", ("close {n}", "shut {n}", "{n} closed", "close it up",
                                "pull {n} shut", "latch {n}")))),
    DeviceType("vent", "servo", "vent", ("vent", "roof_vent", "window", "louvre"),
               ("the vent", "the window", "the roof vent", "the louvres"),
               (ActionType("angle", "angle", ("vent", "{d}_angle", "tilt"),
                           ("open the {n} to an angle", "set the {n}'s angle"),
                           _num("degrees"),
                           ("open {n} {q}", "{n} to {q}", "tilt {n} {q}",
                            "crack {n} {q}", "set {n} at {q}", "angle {n} {q}")),)),
    DeviceType("arm", "servo", "arm", ("arm", "camera_mount", "pan", "boom"),
               ("the arm", "the camera mount", "the boom"),
               (ActionType("angle", "angle", ("{d}_to", "point", "pan", "aim"),
                           ("move the {n} to an angle", "point the {n} to an angle"),
                           _num("degrees"),
                           ("point {n} at {q}", "{n} to {q}", "aim {n} {q}", "swing {n} {q}",
                            "pan {q}", "tilt {n} to {q}")),)),
    DeviceType("belt", "motor", "belt", ("conveyor", "belt", "winch", "turntable"),
               ("the belt", "the conveyor", "the winch", "the turntable", "the motor"),
               (ActionType("run", "run", ("{d}_run", "run_{d}", "{d}", "reel"),
                           ("run the {n} for some seconds", "spin the {n} for a while"),
                           "enum:direction:forward|backward;num:duration_s",
                           ("run {n} for {q}", "run {n} {dir} {q}", "spin {n} {q}",
                            "{n} {dir} {q}", "turn {n} for {q}", "reel {dir} {q}",
                            "roll {n} {q}", "get {n} moving {q}")),)),
    DeviceType("blinds", "mqtt", "blinds", ("blinds", "curtains", "shutters", "shades"),
               ("the blinds", "the curtains", "the shutters", "the shades"),
               (ActionType("position", "position", ("blinds", "{d}", "{d}_position"),
                           ("move the {n} to a position", "open or close the {n}"),
                           "enum:position:open|half|closed",
                           ("{v} {n}", "{n} {v}", "set {n} {v}", "{n} to {v}",
                            "make {n} {v}", "let the light in", "block the sun",
                            "{v} the {n}", "{n} {v} please")),)),
    DeviceType("speaker", "mqtt", "speaker", ("speaker", "stereo", "sound"),
               ("the speaker", "the music", "the volume", "the sound"),
               (ActionType("volume", "volume", ("volume", "{d}_volume", "loudness"),
                           ("set the {n}'s volume", "change how loud the {n} is"),
                           "enum:level:quiet|normal|loud",
                           ("make it {v}", "volume {v}", "set the volume to {v}",
                            "{n} {v}", "{v} please", "turn the volume to {v}",
                            "i want it {v}")),)),
    DeviceType("fan_speed", "mqtt", "fan", ("circulation_fan", "fan", "blower", "air"),
               ("the fan", "the breeze", "the air", "the blower", "the draft"),
               (ActionType("speed", "speed", ("fan_speed", "{d}_speed", "airflow"),
                           ("set the {n}'s speed",), "enum:setting:off|low|medium|high",
                           ("fan {v}", "{n} to {v}", "set {n} to {v}", "crank {n} up to {v}",
                            "{n} on {v}", "put {n} on {v}", "blow {v}", "turn {n} {v}",
                            "{v} breeze please")),)),
    DeviceType("camera", "mqtt", "camera", ("camera", "cam", "webcam"),
               ("the camera", "the cam"),
               (ActionType("photo", "shoot", ("shoot", "photo", "snap", "take_photo"),
                           ("take a photo with the {n}", "take a picture"), "",
                           ("take a picture", "snap a photo", "photo please", "say cheese",
                            "grab a shot", "capture this", "shoot", "take a pic",
                            "get a snapshot")),)),
    DeviceType("mister", "mqtt", "mister", ("mister", "sprayer", "humidifier"),
               ("the mister", "the sprayer"),
               (ActionType("mist", "mist", ("mist", "spray", "{d}_run"),
                           ("mist the seedlings", "spray a fine mist"), _num("duration_s"),
                           ("mist the plants", "spray the seedlings", "mist for {q}",
                            "give the leaves a spritz", "spray {q}", "dampen the plants",
                            "humidify for {q}")),)),
    DeviceType("backdrop", "mqtt", "backdrop", ("backdrop", "screen", "background"),
               ("the backdrop", "the background", "the paper"),
               (ActionType("roll", "roll", ("backdrop", "{d}_down"),
                           ("roll down a backdrop",), "enum:shade:white|black|grey|green",
                            ("{v} backdrop", "roll down {v}", "{v} background please",
                             "give me the {v} backdrop", "drop the {v} paper",
                             "backdrop {v}", "switch the background to {v}")),)),
)
# Things no generated robot has: asked for, they must be read as themselves, and a config
# without them has no action for them.
ABSENT_THINGS = ("oven", "dishwasher", "washing machine", "car", "garage door", "alarm",
                 "printer", "microwave", "air conditioner", "toaster", "lawnmower", "drone")
OUT_OF_SCOPE = (
    "what's the weather like tomorrow", "play some jazz", "set an alarm for seven",
    "order a pizza", "tell me a joke", "what time is it", "call mum", "read my emails",
    "add milk to the shopping list", "how tall is the eiffel tower", "remind me to call bob",
    "book a table for two", "what's on my calendar", "send a text to anna",
    "who won the game last night", "translate hello into french", "how do you spell necessary",
    "what's the news", "find a recipe for lasagne", "is it going to rain",
    "play the next episode", "how much is a bitcoin", "good morning", "thank you",
    "what can you do", "i love you", "tell me about the moon", "what's two plus two",
    "turn the page", "change the channel", "lower the price", "open the app",
    "make a reservation", "turn up the heat on the stove", "red wine please",
    "make me a sandwich", "the sky is blue", "order more coffee beans", "clean up my inbox",
    "move my meeting to friday", "turn left at the lights and you'll see the shop",
    "draw a red circle", "buy a new lamp", "what colour is the sky", "speak louder",
)
PLACES = ("kitchen", "living room", "bedroom", "hall", "office", "garage", "garden",
          "bathroom", "lounge", "dining room", "landing", "study", "workshop", "greenhouse")
