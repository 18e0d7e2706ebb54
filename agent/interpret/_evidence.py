"""What kind of evidence a match rests on: the key of the confidence table.

The kinds are about the words, not about any config: an exact example, the operation and the
thing both named, an operation only one action has, a tie... How often each kind is right is
measured on labelled sentences by scripts/calibrate.py, which writes the confidence of each
(agent/interpret/_calibrated.py); nothing here sets a number.
"""

from __future__ import annotations

from agent.interpret._lexicon import (
    ASSISTANT_NAMES,
    COLOUR_WORDS,
    FILLER,
    MORE_OR_LESS,
    OPERATION_CONCEPTS,
    RESULT_VERBS,
    SAME_OPERATION,
    VALUE_CONCEPTS,
    concept,
    refers_back,
)
from agent.interpret._matcher import Match, Matcher
from agent.interpret._text import quantities

MIN_COVERAGE = 0.3  # below this share of the request explained, ask rather than act
BEFORE_THE_VERB = (FILLER - RESULT_VERBS) | set(ASSISTANT_NAMES)


def evidence(matcher: Matcher, best: Match, second: Match | None, words: list[str]
             ) -> tuple[str, str]:
    """(kind of evidence, why in words) for the best match of a request."""
    query = matcher.query(words)
    profile = matcher.profile(best.action)
    explained = sum(1 for c in query if c in profile.concepts)
    coverage = explained / max(1, len(query))
    tie = second is not None and second.standing == best.standing
    # Operation words said as one of this action's values are values: "fan low", "fan off" to
    # a fan whose speed can be off, low or high
    asked = {c for c in query if c in OPERATION_CONCEPTS and
             (c == profile.operation or c not in profile.values)}
    if best.exact_example and not (tie and second and second.exact_example):
        return "example", "an example of the action, word for word"
    others = {c for c in asked if c != profile.operation and
              SAME_OPERATION.get(c) != profile.operation and c not in profile.concepts}
    if best.action in matcher.levels and any(q.dimension == "percent"
                                             for q in quantities(words)):
        others -= MORE_OR_LESS  # "dim the lamp to 40 percent" sets its level
    if others:
        return "other_operation", (f"asks for {_as_said(others, words)} too, which "
                                   f"{best.action} is not")
    values = {c for c in query if c in VALUE_CONCEPTS and c not in profile.concepts}
    if values:  # "make the buzzer blue", "drive left"
        return "other_value", f"asks for {_as_said(values, words)}, which {best.action} " \
            "cannot take"
    elsewhere = matcher.things_of_other_actions(best.action, query)
    if elsewhere:  # "turn left; also water the plants": one thing at a time, asked back
        return "other_thing", (f"also names {', '.join(sorted(elsewhere))}, which "
                               f"{best.action} is not")
    if tie:
        tied = f"{best.action} or {second.action}" if second else best.action
        return "tie", f"as likely {tied}"
    understood = f"{explained} of {len(query)} words understood"
    lead = matcher.query(words[:1])
    if lead and best.object_named and not best.operation_matched and \
            lead[0] not in profile.concepts and \
            lead[0] not in OPERATION_CONCEPTS and not matcher.known(lead[0]):
        # "dock the vacuum": a verb none of the actions has, said to a device that has some
        return "unknown_operation", f"'{words[0]}' is nothing {best.action} does"
    if refers_back(words) and not best.object_named:
        return "pronoun", "'it' with nothing it could refer to"
    if best.operation_matched and best.thing_matched:
        if coverage < MIN_COVERAGE:  # named both, amid much else
            return "both_named_low_coverage", f"operation and device both named; {understood}"
        return "both_named", "operation and device both named"
    if coverage < MIN_COVERAGE:
        return "low_coverage", f"only {understood}"
    # "turn the lights blue", "make it red"
    if any(c in profile.values for c in query) and not asked and coverage >= 0.5:
        if not best.object_named:
            if coverage == 1 and profile.takes_colour_as_result and \
                    _colour_as_result(words, profile.values):
                return "colour_as_result", f"a colour only {best.action} takes, asked as the " \
                    "result"
            return "value_only", f"a value only {best.action} takes"
        if coverage == 1:
            return "device_and_value", "device named with a value only this action takes"
    if best.thing_matched and not asked and coverage >= 0.5:
        if coverage < 1:  # "make the coffee stronger"
            return "device_only_partly", f"device named, no operation; {understood}"
        return "device_only", "device named, no operation asked"
    if best.operation_matched and matcher.operation_is_unique(profile.operation) and \
            not best.thing_matched and coverage >= 0.5:
        if coverage < 1:  # "turn the volume up"
            return "unique_operation_partly", f"an operation only this action has; {understood}"
        if best.action in matcher.needs_amounts and not matcher.has_values(words):  # "go"
            return "bare_operation", "an operation only this action has, and nothing else"
        return "unique_operation", "an operation only this action has"
    if best.operation_matched:
        return "operation_only", "operation named, but not what to do it to"
    return "partial", "partly matched"


def _colour_as_result(words: list[str], values: frozenset[str]) -> bool:
    """"make the living room blue": a verb that gives a value leads, and a colour this action
    takes ends the request; not "red wine please" (no verb), "make a red wine sauce" (the
    colour describes something else) nor "set the living room to normal" (normal what?)."""
    lead = [w for w in words if w not in BEFORE_THE_VERB]
    content = [w for w in words if w not in FILLER or w in RESULT_VERBS]
    return bool(lead) and lead[0] in RESULT_VERBS and len(content) > 1 and \
        content[-1] in COLOUR_WORDS and concept(content[-1]) in values


def _as_said(concepts: set[str], words: list[str]) -> str:
    """Concepts in the words the request said them with ("purple", not its stem "purpl"):
    the last word of each ("turn the lamp on and spin": spin)."""
    last = {concept(w): w for w in words}
    return ", ".join(sorted(last.get(c, c) for c in concepts))
