"""Sentences in another language, read through English (agent/interpret/_language.py): when a
sentence has more of a language's own words than of English's, its phrases and words are
mapped onto English ones and its word order rewritten; every mechanism then reads it as
English. What the language's data does not map stays itself, unknown, and is asked back."""

from __future__ import annotations

import re

from agent.config import Config
from agent.interpret._form import normalise
from agent.interpret._language import english, translation

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# English's own words, against which a sentence's language is weighed
ENGLISH_WORDS = frozenset(english().lexicon.words.filler) | frozenset(
    w for ws in english().lexicon.operations.values() for w in ws)


class Translator:
    def __init__(self, code: str) -> None:
        data = translation(code)
        self.code = code
        self.markers = frozenset(data.markers)
        self.phrases = [(re.compile(rf"(?<![\w']){re.escape(p)}(?![\w'])"), e)
                        for p, e in sorted(data.phrases.items(), key=lambda i: -len(i[0]))]
        self.words = data.words
        self.rewrites = [(re.compile(r.pattern), r.english) for r in data.rewrites]

    def reads(self, text: str) -> bool:
        """Whether the sentence is in this language rather than in English."""
        words = WORD.findall(normalise(text))
        own = sum(w in self.markers for w in words)
        return own > 0 and own >= sum(w in ENGLISH_WORDS and w not in self.markers
                                      for w in words)

    def english(self, text: str) -> str:
        said = normalise(text)
        for pattern, english_words in self.phrases:
            said = pattern.sub(english_words, said)
        said = WORD.sub(lambda m: self.words.get(m.group(), m.group()), said)
        said = " ".join(said.split())
        for pattern, english_words in self.rewrites:
            said = pattern.sub(english_words, said)
        return " ".join(said.split())


def config_in_english(config: Config, readers: list[Translator]) -> Config:
    """The config with its descriptions, examples and rooms read through English too: the
    words a user wrote in German for a German robot match German requests."""
    if not readers:
        return config
    actions = {name: action.model_copy(update={
        "description": in_english(action.description, readers),
        "examples": [in_english(e, readers) for e in action.examples]})
        for name, action in config.actions.items()}
    devices = {name: device.model_copy(update={
        "description": in_english(device.description, readers),
        "room": in_english(device.room, readers)})
        for name, device in config.devices.items()}
    return config.model_copy(update={"actions": actions, "devices": devices})


def translators(codes: tuple[str, ...]) -> list[Translator]:
    return [Translator(code) for code in codes if code != "en"]


def in_english(text: str, readers: list[Translator]) -> str:
    """The text, read through the first language it is in (itself when English)."""
    for reader in readers:
        if reader.reads(text):
            return reader.english(text)
    return text
