"""Pages, notifications and audit lines name a person by their name, not their login."""

from __future__ import annotations

from django.template import Context, Template

from apps.core.people import person_name
from tests.factories import UserFactory


def _render(source: str, **context: object) -> str:
    return Template("{% load core_tags %}" + source).render(Context(context))


def test_a_person_with_a_full_name_is_named_by_it(db):
    rhea = UserFactory(username="rhea", first_name="Rhea", last_name="Reviewer")
    assert person_name(rhea) == "Rhea Reviewer"
    assert _render("{{ who|person }}", who=rhea) == "Rhea Reviewer"


def test_a_person_with_only_a_first_name_is_named_by_it(db):
    assert person_name(UserFactory(username="ada", first_name="Ada")) == "Ada"


def test_a_person_without_a_name_falls_back_to_the_username(db):
    pim = UserFactory(username="pim")
    assert person_name(pim) == "pim"
    assert _render("{{ who|person }}", who=pim) == "pim"


def test_a_removed_account_reads_removed_or_the_fallback_the_template_gives():
    assert person_name(None) == "(removed)"
    assert person_name(None, "someone") == "someone"
    assert _render("{{ who|person }}", who=None) == "(removed)"
    assert _render('{{ who|person:"someone" }}', who=None) == "someone"
    assert _render('[{{ who|person:"" }}]', who=None) == "[]"


def test_a_name_is_escaped_on_the_page(db):
    odd = UserFactory(username="odd", first_name="<b>Odd</b>")
    assert _render("{{ who|person }}", who=odd) == "&lt;b&gt;Odd&lt;/b&gt;"
