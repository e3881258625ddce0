"""The inbox's filter fields are written out in Python for speed; they must stay the markup
crispy's Bootstrap 5 field template gives (labels, ids, classes, aria attributes, errors,
help, chosen options), so the accessibility checks and the browser tests see the same form."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.template import engines

from communities.choices import Role
from feedback.forms import CaseFilterForm
from feedback.views.inbox_filters import filter_fields_html
from tests.factories.communities import LocationFactory, StaffRoleFactory
from tests.factories.surveys import SurveyFactory

pytestmark = pytest.mark.django_db


class _Shape(HTMLParser):
    """Tags with their attributes (in any order) and the text between them."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list = []

    def handle_starttag(self, tag, attrs):
        self.items.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag):
        self.items.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.items.append(("text", " ".join(data.split())))


def _shape(html: str) -> list:
    parser = _Shape()
    parser.feed(html)
    return parser.items


def _form(organisation, data):
    agent = StaffRoleFactory(organisation=organisation, role=Role.AGENT, user__name="Ann").user
    survey = SurveyFactory(organisation=organisation)
    store = LocationFactory(organisation=organisation, name="Siam <Paragon>")
    form = CaseFilterForm(data, staff=[agent], surveys=[survey], locations=[store], teams=[])
    if data is not None:
        form.is_valid()
    return form, survey, store


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": "refund", "status": "open", "overdue": "on", "sort": "due"},
        {"q": "x" * 500, "survey": "not-a-number", "created_from": "nope"},
        {"created_from": "2026-02-01", "created_to": "2026-01-01", "owner": "me"},
    ],
    ids=["unbound", "chosen", "invalid", "dates-reversed"],
)
def test_each_filter_field_is_the_markup_crispy_gives_it(organisation, data):
    # given
    form, _survey, _store = _form(organisation, data)
    crispy = engines["django"].from_string(
        "{% load crispy_forms_tags %}"
        + "".join("{{ form." + name + "|as_crispy_field }}" for name in form.fields)
    )

    # when
    ours = filter_fields_html(form)

    # then: field by field, the same elements, attributes and words
    expected = _shape(crispy.render({"form": form}))
    assert _shape("".join(ours[name] for name in form.fields)) == expected


def test_the_chosen_store_is_selected_and_its_name_escaped(organisation):
    form, _survey, store = _form(organisation, None)
    form = CaseFilterForm(
        {"location": str(store.pk)},
        staff=[],
        surveys=[],
        locations=[store],
        teams=[],
    )
    form.is_valid()

    html = filter_fields_html(form)["location"]

    assert f'<option value="{store.pk}" selected>Siam &lt;Paragon&gt;</option>' in html
