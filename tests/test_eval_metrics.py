"""Each metric on hand-made cases."""

import pytest

from rag.evaluate import metrics as m

pytestmark = pytest.mark.fast


def test_normalize_is_squad_style():
    assert m.normalize("The  Hague!") == "hague"
    assert m.normalize("“Five” percent—of GDP.") == "five percent of gdp"


def test_exact_match_and_f1():
    assert m.exact_match("The Hague.", ["the hague"]) == 1.0
    assert m.exact_match("In The Hague", ["The Hague"]) == 0.0
    assert m.token_f1("five percent of GDP", ["five percent of gross domestic product"]) == pytest.approx(
        2 * (3 / 4) * (3 / 6) / (3 / 4 + 3 / 6)
    )
    assert m.token_f1("nothing shared", ["The Hague"]) == 0.0
    assert m.token_f1("anything", []) == 0.0


def test_contains_answer_matches_whole_words():
    assert m.contains_answer("It lasted 50 minutes [1].", ["50 minutes"]) == 1.0
    assert m.contains_answer("It lasted 150 minutes.", ["50 minutes"]) == 0.0
    assert m.contains_answer("anything", []) == 0.0
    # Decimals compare by value, and a decimal point is not dropped into a different number.
    assert m.contains_answer("It fell by 1.8% [1].", ["1.80%"]) == 1.0
    assert m.contains_answer("It fell by 18% [1].", ["1.80%"]) == 0.0
    assert m.normalize("2.00 and 10.50 and 3.05") == "2 and 10.5 and 3.05"
    assert m.contains_answer("Canada expelled India’s ambassador [1].", ["India"]) == 1.0


def test_retrieval_metrics():
    assert m.hit_at_k([3], 1) == 0.0 and m.hit_at_k([3], 3) == 1.0 and m.hit_at_k([], 10) == 0.0
    assert m.mrr_at_k([2, 5]) == 0.5 and m.mrr_at_k([11]) == 0.0
    assert m.recall_at_k({"a": 1, "b": 7}, ["a", "b"], 5) == 0.5
    assert m.recall_at_k({}, [], 5) == 0.0


def test_citation_precision_coverage_and_risk_coverage():
    assert m.citation_precision([True, False]) == 0.5 and m.citation_precision([]) == 0.0
    assert m.citation_recall([False, True]) == 1.0 and m.citation_recall([]) == 0.0
    assert m.answer_precision([True, True, False, True]) == 0.75 and m.answer_precision([]) == 0.0
    assert m.coverage([True, False, False, False]) == 0.25
    points = m.risk_coverage([(0.9, True), (0.5, False), (0.7, True), (0.2, False)])
    assert points[0] == (0.2, 1.0, 0.5), "lowest threshold: everything answered"
    assert points[-1] == (0.9, 0.25, 1.0), "highest threshold: only the surest"
    assert [c for _, c, _ in points] == [1.0, 0.75, 0.5, 0.25]


def test_ampersand_reads_as_and():
    assert m.contains_answer("Mexico and Canada were hit [3].", ["Mexico & Canada"]) == 1.0


def test_rates_and_percentiles():
    assert m.rate([True, False, False, False]) == 0.25 and m.rate([]) == 0.0
    assert m.percentile([1, 2, 3, 4], 50) == 2.5 and m.percentile([], 95) == 0.0


def test_refusal_detection_for_pipelines_without_abstention():
    assert m.looks_like_refusal("The context does not provide information about Kyiv's population.")
    assert not m.looks_like_refusal("Kyiv has 3 million people.")


def test_gate_fails_for_missing_thresholds(tmp_path):
    from rag.evaluate.report import check

    summary = {"tiny": {"contains": 0.5, "false_abstain": 0.2}, "other": {"contains": 0.9}}
    assert "no thresholds file" in check(summary, tmp_path / "missing.toml")[0]
    limits = tmp_path / "t.toml"
    limits.write_text("[tiny]\ncontains = 0.6\nfalse_abstain = 0.1\n")
    failures = check(summary, limits)
    assert any("contains = 0.5 below 0.6" in f for f in failures)
    assert any("false_abstain = 0.2 above" in f for f in failures)
    assert any(f.startswith("other: no thresholds") for f in failures)


def test_reliability_bins_stated_confidence_against_observed_precision():
    from rag.evaluate.metrics import reliability

    scored = [(0.95, True), (0.9, True), (0.85, False), (0.55, True), (0.5, False), (1.0, True)]
    assert reliability(scored) == [
        (0.525, 0.5, 2),
        (pytest.approx(0.925), 0.75, 4),
    ]
