"""The interpreter's words are data (agent/interpret/lang/<code>/*.toml), validated when loaded:
a file with a key the interpreter does not know, a missing key, a wrong type or a pattern that
does not compile is a LanguageError naming the file and the key, never a silently ignored word.

Adding a word is one line of data and one line here: a synonym goes to lexicon.toml and a
sentence that needs it to SAID below; a stop idiom to stops.toml and tests/test_stops.py's
STOPS; a negation cue to forms.toml and tests/test_negation.py's CUES; a German word to
de/translation.toml and GERMAN below."""

from __future__ import annotations

import shutil
import typing
from datetime import datetime
from pathlib import Path

import pytest

from agent.config import load_config
from agent.config._sections import InterpreterConfig
from agent.interpret import Interpreter
from agent.interpret._language import (
    FILES,
    LANGUAGES,
    LanguageError,
    read_english,
    read_translation,
)
from agent.safety.gate import Gate
from agent.text.decide import decide_statically
from tests.conftest import ROOT

NOW = datetime(2026, 12, 9, 10, 0).astimezone()
HOME = load_config(ROOT / "scripts/eval-data/home.toml")
# A sentence whose meaning rests on one data line, and what it must do on home.toml
# (and the parameters it must have, when the line is about a parameter)
SAID: list[tuple[str, str | None, dict[str, object]]] = [
    ("illuminate the kitchen", "lights_brighter", {}),    # lexicon: operations.bright
    ("switch the lamps on", "lights_on", {}),              # lexicon: things.light
    ("fire up the hoover", "vacuum_start", {}),            # lexicon: things.clean
    ("shut the door", "door_close", {}),                   # lexicon: value_synonyms.close
    ("turn on the coffee in 10 mins", "coffee_start", {}),  # time: units (scheduled)
    ("honk thrice", "honk", {"times": 3}),                 # numbers: counts
    ("honk honk", "honk", {"times": 2}),                   # numbers: counted_sounds
]
GERMAN: list[tuple[str, str | None, dict[str, object]]] = [
    ("mach das licht an", "lights_on", {}),                # de: words licht, an; "mach"
    ("bitte nicht hupen", None, {}),                       # de: negation "nicht"
]


def test_every_shipped_language_loads_and_is_one_the_config_accepts() -> None:
    folders = {p.name for p in LANGUAGES.iterdir() if p.is_dir() and not p.name.startswith("_")}
    read_english(LANGUAGES / "en")
    for code in folders - {"en"}:
        read_translation(LANGUAGES / code)
    accepted = typing.get_args(typing.get_args(
        InterpreterConfig.model_fields["languages"].annotation)[0])
    assert set(accepted) == folders
    # every file in English's folder is read: none is silently left out
    assert {p.stem for p in (LANGUAGES / "en").glob("*.toml")} == set(FILES)


def _copy_of_english(tmp_path: Path) -> Path:
    folder = tmp_path / "en"
    shutil.copytree(LANGUAGES / "en", folder)
    return folder


@pytest.mark.parametrize(("file", "change", "names"), [
    ("stops", ("words = [", "wurds = [\"stop\"]\nwords = ["), "wurds"),
    ("time", ("days = [", "days = 7\ndayz = ["), "days"),
    ("forms", ("cues = [", "cues = [\"(unclosed\", "), "negation.cues.0"),
    ("lexicon", ("[operations]\n", "[operations]\nbroken = \"not a list\"\n"),
     "operations.broken"),
])
def test_a_bad_line_is_an_error_naming_its_file_and_key(
        tmp_path: Path, file: str, change: tuple[str, str], names: str) -> None:
    folder = _copy_of_english(tmp_path)
    path = folder / f"{file}.toml"
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(LanguageError) as raised:
        read_english(folder)
    assert f"{file}.toml" in str(raised.value) and names in str(raised.value)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    folder = _copy_of_english(tmp_path)
    (folder / "numbers.toml").unlink()
    with pytest.raises(LanguageError, match=r"numbers\.toml"):
        read_english(folder)


def test_a_bad_translation_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "translation.toml").write_text(
        'markers = ["und"]\nphrases = {}\nwords = {}\n'
        'rewrites = [{ pattern = "(", english = "x" }]\n', encoding="utf-8")
    with pytest.raises(LanguageError, match=r"rewrites\.0\.pattern"):
        read_translation(tmp_path)


@pytest.mark.parametrize(("text", "action", "params"), SAID + GERMAN)
def test_a_sentence_that_rests_on_one_data_line(text: str, action: str | None,
                                                params: dict[str, object]) -> None:
    config = HOME.model_copy(update={"interpreter": HOME.interpreter.model_copy(
        update={"languages": ("en", "de")})})
    out = decide_statically(Interpreter(config).interpret(text, NOW), config,
                            Gate.static(config))
    if action is None:
        assert str(out.decision) == "none"
    else:
        assert out.action == action and str(out.decision) in ("execute", "schedule"), out
        assert params.items() <= out.params.items(), out
