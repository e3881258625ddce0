"""A detractor's case reads its organisation's business hours and service levels once per
process until they change (issue 13: one statement less on every detractor's answer),
and a change reaches the next case, in this process and in any other."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.models import Organisation
from feedback.choices import CasePriority
from feedback.services import sla
from feedback.services.sla import case_sla_times
from feedback.services.teams import sla_policy_delete, sla_policy_save
from tests.factories.communities import OrganisationFactory
from tests.factories.feedback_cases import BusinessHoursFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db

MONDAY_9 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def _fresh(organisation) -> Organisation:
    """The organisation as a new request reads it."""
    return Organisation.objects.get(pk=organisation.pk)


def _high_policy(organisation, first: int, resolution: int):
    """Staff set the high priority's targets (minutes) through the service."""
    return sla_policy_save(
        organisation=organisation,
        actor=None,
        priority=CasePriority.HIGH,
        first_response_minutes=first,
        resolution_minutes=resolution,
    )


def _after(first: int, resolution: int) -> tuple[dt.datetime, dt.datetime]:
    return MONDAY_9 + dt.timedelta(minutes=first), MONDAY_9 + dt.timedelta(minutes=resolution)


def _due(organisation, priority=CasePriority.HIGH):
    return case_sla_times(organisation=_fresh(organisation), priority=priority, start=MONDAY_9)


def test_the_second_case_reads_no_service_level_row(organisation):
    SlaPolicyFactory(organisation=organisation, priority=CasePriority.HIGH)
    first = _due(organisation)
    fresh = _fresh(organisation)
    with CaptureQueriesContext(connection) as queries:
        again = case_sla_times(organisation=fresh, priority=CasePriority.HIGH, start=MONDAY_9)
    assert again == first and len(queries) == 0


def test_a_changed_policy_reaches_the_next_case(organisation):
    # given: a policy, and a case that read it
    _high_policy(organisation, 60, 120)
    assert _due(organisation) == _after(60, 120)
    # when: staff change it
    _high_policy(organisation, 30, 240)
    # then: the next case is due by the new targets
    assert _due(organisation) == _after(30, 240)


def test_a_deleted_policy_falls_back_to_the_defaults(organisation, settings):
    settings.CASES_SLA_DEFAULTS = {
        **settings.CASES_SLA_DEFAULTS,
        "high": {"first_response": 10, "resolution": 20},
    }
    policy, _created = _high_policy(organisation, 60, 120)
    _due(organisation)
    sla_policy_delete(policy=policy, actor=None)
    assert _due(organisation) == _after(10, 20)


def test_another_process_sees_the_change_by_the_organisations_new_key(organisation):
    # given: this process kept the hours (round the clock on Monday from 9 here)
    before = _due(organisation, CasePriority.NORMAL)
    stamp = _fresh(organisation).updated_at
    # when: hours are set (as another process would: the row and the organisation's key,
    # but nothing this process kept is forgotten)
    BusinessHoursFactory(organisation=organisation, days=[1], opens=dt.time(9), closes=dt.time(10))
    kept = dict(sla._kept)
    assert _fresh(organisation).updated_at > stamp
    sla._kept.update(kept)
    # then: the next case, reading the organisation afresh, is due by the new hours
    after = _due(organisation, CasePriority.NORMAL)
    assert after != before


def test_each_organisation_keeps_its_own_hours(organisation):
    other = OrganisationFactory()
    SlaPolicyFactory(
        organisation=other,
        priority=CasePriority.HIGH,
        first_response_minutes=5,
        resolution_minutes=10,
    )
    mine, theirs = _due(organisation), _due(other)
    assert theirs == _after(5, 10)
    assert mine != theirs
