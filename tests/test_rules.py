"""The checker's rule table, as tests: every example decided as declared, every rule needed by one."""

from __future__ import annotations

from datetime import date

import pytest
from fakes import FakeEmbedder

from rag.answer.steps import make_query, split_flagged
from rag.core.answer_settings import AnswerSettings
from rag.core.types import Chunk, Draft, Passage
from rag.verify.confidence import ConfidenceModel
from rag.verify.rules import ALL, RULES, Example, Rule
from rag.verify.verifier import Verifier

pytestmark = pytest.mark.fast


def answers(example: Example, rules: frozenset[str] = ALL) -> bool:
    """Run one example through the Verifier as the pipeline does; True when it answers."""
    passages = [
        Passage(
            Chunk(f"c{i}", f"d{i}", 0, len(p.text), p.text, "T", "a.txt", p.date), 0.03, i, "fused", p.dense
        )
        for i, p in enumerate(example.pages, 1)
    ]
    settings = AnswerSettings(**dict(example.settings))
    confidence = CONFIDENCE if settings.min_confidence is not None else None  # else the rules alone decide
    verifier = Verifier(settings, None, FakeEmbedder(), rules, confidence)
    query = make_query(example.question, date.fromisoformat(example.as_of))
    given, _ = verifier.set_aside(query, split_flagged(passages, len(passages)))  # as the pipeline does
    verdict = verifier.verify(query, Draft(example.draft), given)
    return not verdict.reason


# A fixed confidence model for the rule examples: more confident the more of the answer is supported.
CONFIDENCE = ConfidenceModel(("supported_share",), (0.5,), (0.5,), (2.0,), 0.0, 0.5)
CASES = [(rule, example) for rule in RULES for example in rule.examples]


@pytest.mark.parametrize(
    ("rule", "example"), CASES, ids=[f"{r.id}-{r.examples.index(e) + 1}" for r, e in CASES]
)
def test_example_is_decided_as_declared(rule: Rule, example: Example) -> None:
    assert answers(example) is example.answers, f"{rule.id}: {rule.reason}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_decides_one_of_its_examples(rule: Rule) -> None:
    """Switched off alone, the rule changes some example's verdict: without it, a test above fails."""
    changed = [e for e in rule.examples if answers(e, ALL - {rule.id}) is not e.answers]
    assert changed, f"{rule.id}: no example needs this rule; give it one that does or remove the rule"


def test_rules_have_unique_ids_a_reason_and_examples() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.reason.endswith(".") and len(rule.reason) < 200, rule.id
        assert rule.examples, rule.id


def test_every_rule_id_in_the_code_is_declared() -> None:
    """A rule named in the checker's code but missing from the table would be switched off silently."""
    import re
    from pathlib import Path

    code = "".join(p.read_text() for p in Path("rag/verify").glob("*.py") if p.name != "rules.py")
    used = set(re.findall(r'"([a-z-]+)" (?:not )?in (?:self\.)?rules', code))
    assert used == ALL, f"in code, not declared: {used - ALL}; declared, not used: {ALL - used}"


def test_unknown_rule_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown checker rules: nope"):
        Verifier(AnswerSettings(), rules={"nope"})
