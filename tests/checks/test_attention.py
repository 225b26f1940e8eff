"""What needs a person (apps/checks/selectors.py ``needs_person``, ``attention_for``): the one
rule the grid badge and the draft page's checks summary share."""

from apps.checks.selectors import attention_for, needs_person


def test_placement_warnings_never_need_a_person_but_placement_failures_do():
    assert not needs_person("resolution", "warn") and not needs_person("crop", "warn")
    assert needs_person("resolution", "fail")
    assert needs_person("softness", "warn") and needs_person("colour", "fail")
    assert not needs_person("softness", "pass")


def test_near_duplicates_have_their_own_chip_and_are_not_counted():
    assert not needs_person("duplicate", "warn")


def test_the_problems_are_named_failures_first_and_channels_are_counted_once_each():
    attention = attention_for(
        [
            ("softness", "softness", "warn", "Sharpness"),
            ("resolution.hero", "resolution", "warn", "Hero banner 3:1 resolution"),
            ("resolution.square", "resolution", "pass", "Square 1:1 resolution"),
            ("crop.hero", "crop", "warn", "Hero banner 3:1 crop"),
            ("crop.square", "crop", "pass", "Square 1:1 crop"),
            ("colour.icc", "colour", "fail", "Colour profile"),
            ("blockiness", "blockiness", "warn", "Compression"),
        ]
    )
    assert attention.status == "fail"
    assert attention.text == "3 problems: Colour profile, Sharpness +1"
    assert attention.title == "fail: Colour profile; warn: Sharpness; warn: Compression"
    assert (attention.fit_text, attention.misfits) == ("fits 1 of 2 channels", ["Hero banner 3:1"])


def test_a_draft_with_only_placement_warnings_has_no_problems():
    attention = attention_for([("crop.hero", "crop", "warn", "Hero banner 3:1 crop")])
    assert (attention.status, attention.text) == ("pass", "no problems")
    assert attention.fit_text == "fits 0 of 1 channel"


def test_most_problems_first_sorts_by_what_needs_a_person_not_by_placement_warnings(batch):
    from apps.checks.models import CheckResult
    from apps.checks.selectors import sort_drafts_by_check
    from apps.drafts.models import Draft
    from tests.factories import make_draft

    def results(draft, *rows):
        CheckResult.objects.bulk_create(
            CheckResult(draft=draft, key=key, kind=key.split(".")[0], status=status, label=key)
            for key, status in rows
        )

    misfit, soft, broken, unchecked = (make_draft(batch, name=f"{n}.png") for n in range(4))
    results(misfit, *((f"resolution.p{i}", "warn") for i in range(6)), ("duplicate", "warn"))
    results(soft, ("softness", "warn"), ("resolution.p0", "pass"))
    results(broken, ("colour", "fail"), ("resolution.p0", "warn"))
    ordered = sort_drafts_by_check(Draft.objects.filter(batch=batch), "problems")
    assert [d.pk for d in ordered] == [broken.pk, soft.pk, misfit.pk, unchecked.pk]
