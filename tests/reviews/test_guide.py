import pytest

from apps.reviews.guide import suggest_decision


def check(**ratings: str) -> dict[str, dict[str, str]]:
    return {key: {"rating": value, "note": ""} for key, value in ratings.items()}


STRONG = {"concept": "pass", "product_accuracy": "pass", "composition": "pass"}


def test_an_empty_checklist_gives_no_suggestion_and_says_what_to_rate():
    suggestion = suggest_decision({})
    assert suggestion.decision == ""
    assert "Rate concept" in suggestion.reasons[0]


def test_strong_concept_product_and_composition_suggest_keep():
    assert suggest_decision(check(**STRONG)).decision == "keep"


def test_local_problems_in_hard_areas_still_suggest_keep_and_are_named_for_rework():
    suggestion = suggest_decision(check(**STRONG, hard_to_repair="concern"))
    assert suggestion.decision == "keep"
    assert "hard-to-repair areas" in suggestion.reasons[1]


@pytest.mark.parametrize("criterion", ["concept", "brand_fit"])
def test_failing_concept_or_brand_fit_suggests_regenerate(criterion):
    assert suggest_decision(check(**{**STRONG, criterion: "fail"})).decision == "regenerate"


def test_failing_hard_to_repair_areas_suggest_regenerate():
    assert suggest_decision(check(**STRONG, hard_to_repair="fail")).decision == "regenerate"


def test_a_draft_that_cannot_support_the_requirements_suggests_reject_even_if_polished():
    suggestion = suggest_decision(check(**STRONG, requirements_fit="fail"))
    assert suggestion.decision == "reject"
    assert "message, channel or product requirement" in suggestion.reasons[0]


def test_reject_outranks_regenerate():
    assert suggest_decision(check(concept="fail", requirements_fit="fail")).decision == "reject"


def test_concerns_on_the_core_leave_the_decision_to_the_reviewer():
    suggestion = suggest_decision(
        check(concept="concern", product_accuracy="pass", composition="pass")
    )
    assert suggestion.decision == ""
    assert "judgement" in suggestion.reasons[0]


def test_unknown_ratings_are_ignored():
    assert suggest_decision(check(concept="great")).decision == ""
