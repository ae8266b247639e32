"""Pure logic of citation checking and abstention, on hand-made passages."""

from rag.cite import abstain_reason, check_answer, numbers, render, split_sentences, support
from rag.settings import AnswerSettings
from rag.types import Chunk, Passage

NATO = (
    "NATO endorsed a higher defence spending goal of five percent of gross domestic product (GDP) "
    "by 2035 – a response to a demand by Trump."
)
DNIPRO = "Russian missile strikes on southeastern Ukraine killed 17 people in the city of Dnipro."


def passage(text: str, rank: int = 1, dense: float = 0.6, start: int = 100) -> Passage:
    chunk = Chunk(f"c{rank}", "d", start, start + len(text), text, "T", "a.txt", "2025-06-25")
    return Passage(chunk, 0.03, rank, "fused", dense_score=dense)


PASSAGES = (passage(NATO, 1), passage(DNIPRO, 2, start=500))


def test_split_sentences_attaches_markers():
    drafts = split_sentences("NATO set 5% [1]. Dnipro lost 17 people. [2] Done [3, 4].")
    assert [(d.text, d.cited) for d in drafts] == [
        ("NATO set 5%.", (1,)),
        ("Dnipro lost 17 people.", (2,)),
        ("Done.", (3, 4)),
    ]


def test_numbers_understands_words_and_separators():
    assert numbers("five percent by 2035") == {"5", "2035"}
    assert numbers("1,200 people, the fourth year, 2.5%") == {"1200", "4", "2.5"}


def test_support_needs_numbers_and_terms():
    assert support("NATO endorsed 5% of GDP by 2035.", NATO, 0.5)[0]
    ok, why = support("NATO endorsed 2.5% of GDP by 2035.", NATO, 0.5)
    assert not ok and "2.5" in why
    ok, why = support("The population of Kyiv is large.", NATO, 0.5)
    assert not ok and "key terms" in why


def test_check_answer_valid_invalid_and_inferred():
    checks, citations, invalid = check_answer(
        "NATO endorsed five percent of GDP by 2035 [1]. Strikes killed 17 people in Dnipro. "
        "Kyiv has 3 million people [2]. Also [9].",
        PASSAGES,
        0.5,
    )
    assert [c.supported for c in checks] == [True, True, False, False]
    assert invalid == [9]
    by_sentence = {c.sentence: c for c in citations}
    nato = by_sentence["NATO endorsed five percent of GDP by 2035."]
    assert nato.n == 1 and nato.supported and not nato.inferred
    assert nato.quote_start == 100 and nato.quote.startswith("NATO endorsed")
    dnipro = by_sentence["Strikes killed 17 people in Dnipro."]
    assert dnipro.n == 2 and dnipro.inferred
    assert not by_sentence["Kyiv has 3 million people."].supported


def test_wrong_citation_number_is_corrected_to_the_supporting_passage():
    checks, citations, invalid = check_answer("Strikes killed 17 people in Dnipro [1].", PASSAGES, 0.5)
    assert invalid == [] and checks[0].supported and checks[0].cited == (2,)
    assert "did not support" in checks[0].reason
    assert [(c.n, c.inferred, c.supported) for c in citations] == [(2, True, True)]


def test_only_supporting_passages_stay_cited():
    checks, citations, _ = check_answer("Strikes killed 17 people in Dnipro [1][2].", PASSAGES, 0.5)
    assert checks[0].cited == (2,) and "dropped [1]" in checks[0].reason
    assert [(c.n, c.supported) for c in citations] == [(2, True)]


def test_units_glued_to_numbers_are_still_compared():
    ok, why = support("The deal is worth $9bn.", "The deal is worth $5bn, officials said.", 0.5)
    assert not ok and "9" in why
    assert support("The deal is worth $5bn.", "The deal is worth $5bn, officials said.", 0.5)[0]


def test_names_with_digits_are_not_numbers():
    assert numbers("The G7 summit and F-16s in the 1990s") == {"16", "1990"}
    assert support("The G7 summit was in Canada.", "Trump left a G7 summit in Canada.", 0.5)[0]


def test_render_puts_markers_before_the_stop():
    checks, _, _ = check_answer("Strikes killed 17 people in Dnipro.", PASSAGES, 0.5)
    assert render(checks) == "Strikes killed 17 people in Dnipro [2]."


def test_abstain_on_weak_evidence_no_support_or_off_question_answers():
    cfg = AnswerSettings(min_dense_score=0.25, min_supported_share=0.5, min_answer_relevance=0.42)
    good, _, _ = check_answer("NATO endorsed 5% of GDP by 2035 [1].", PASSAGES, 0.5)
    bad, _, _ = check_answer("Kyiv has 2.9 million people [1].", PASSAGES, 0.5)
    assert abstain_reason(good, PASSAGES, cfg, relevance=0.8) == ""
    assert "no sentence" in abstain_reason(bad, PASSAGES, cfg)
    weak = (passage(NATO, 1, dense=0.1),)
    assert "weak evidence" in abstain_reason(good, weak, cfg)
    assert abstain_reason(good, (), cfg) == "no passages retrieved"
    strict = cfg.model_copy(update={"min_supported_share": 0.75})
    assert "1 of 2" in abstain_reason(good + bad, PASSAGES, strict, relevance=0.8)
    assert "do not address the question" in abstain_reason(good, PASSAGES, cfg, relevance=0.3)


def test_abbreviations_do_not_end_sentences():
    drafts = split_sentences("The U.S. struck Iran's sites [1]. Mr. Rutte spoke on Jan. 5 [2]. Done.")
    assert [(d.text, d.cited) for d in drafts] == [
        ("The U.S. struck Iran's sites.", (1,)),
        ("Mr. Rutte spoke on Jan. 5.", (2,)),
        ("Done.", ()),
    ]


def test_number_forms_compare_equal():
    assert numbers("5.0 percent, 1,200 people, day 06") == {"5", "1200", "6"}
