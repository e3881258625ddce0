"""Every table that holds a member's data is answered for by some app's registered part,
so a member's export, erasure, portal and staff page never miss what a new app stores."""

import pytest
from django.apps import apps
from django.db import models

from communities import member_data
from communities.models import Member


def _holds_member_data(model: type[models.Model]) -> bool:
    """A relation to Member, or a field that holds an address or phone number."""
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False):
            continue
        if getattr(field, "related_model", None) is Member:
            return True
        if isinstance(field, models.EmailField) or field.name in ("email", "to_email", "phone"):
            return True
    return False


def _unanswered(parts: list[member_data.MemberData]) -> set[str]:
    answered = {label for part in parts for label in (*part.models, *part.unrelated)}
    return {
        model._meta.label
        for model in apps.get_models()
        if _holds_member_data(model) and model._meta.label not in answered
    }


def test_every_table_with_member_data_belongs_to_a_registered_part():
    assert _unanswered(member_data.member_data_parts()) == set()


def test_an_app_that_registers_no_part_is_caught():
    # given surveys' part missing, as if a new app stored responses and registered nothing
    parts = [p for p in member_data.member_data_parts() if p.app_label != "surveys"]
    # then its tables are reported
    assert {"surveys.Response", "surveys.SurveyInvitation"} <= _unanswered(parts)


def test_every_named_table_exists():
    for part in member_data.member_data_parts():
        for label in (*part.models, *part.unrelated):
            assert apps.get_model(label), label


def test_parts_register_in_layer_order_and_erase_from_the_top():
    # the app above reads rows below it (a case reads its response) before they are unlinked
    order = [p.app_label for p in member_data.member_data_parts()]
    assert order == ["communities", "rewards", "surveys", "feedback"]
    seen = []
    for part in member_data.member_data_parts():
        if part.erase is not None:
            seen.append(part.app_label)
    assert list(reversed(seen)) == ["feedback", "surveys", "rewards", "communities"]


@pytest.mark.django_db
def test_staff_overview_refuses_a_member_of_another_organisation():
    from tests.factories.communities import MemberFactory, OrganisationFactory

    member = MemberFactory()
    with pytest.raises(Member.DoesNotExist):
        member_data.member_staff_overview(organisation=OrganisationFactory(), member=member)
