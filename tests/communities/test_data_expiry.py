"""What was collected for something that never happened is not kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.choices import ImportStatus, MemberStatus
from communities.models import ConsentRecord, LinkToken, Member, MemberImport
from communities.services import personal_data_expire
from communities.tasks import personal_data_expire_task
from tests.factories.communities import (
    ConsentRecordFactory,
    LinkTokenFactory,
    MemberFactory,
    MemberImportFactory,
)

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(days=31)


def test_a_join_never_confirmed_is_forgotten_after_thirty_days_with_its_consent(community):
    # given
    stale = MemberFactory(community=community, status=MemberStatus.PENDING, created_at=LONG_AGO)
    ConsentRecordFactory(member=stale)
    recent = MemberFactory(community=community, status=MemberStatus.PENDING)
    confirmed_long_ago = MemberFactory(community=community, created_at=LONG_AGO)
    # when
    result = personal_data_expire()
    # then
    assert result["members"] == 1
    assert set(Member.objects.values_list("pk", flat=True)) == {recent.pk, confirmed_long_ago.pk}
    assert not ConsentRecord.objects.filter(member_id=stale.pk).exists()


def test_invited_and_unsubscribed_members_are_never_expired(community):
    # given
    for status in (MemberStatus.INVITED, MemberStatus.UNSUBSCRIBED):
        MemberFactory(community=community, status=status, created_at=LONG_AGO)
    # when
    personal_data_expire()
    # then
    assert Member.objects.count() == 2


def test_an_unconfirmed_import_loses_its_file_after_a_week_and_says_why(community):
    # given
    old = MemberImportFactory(community=community, errors=[{"row": 2, "value": "x@example"}])
    MemberImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    fresh = MemberImportFactory(community=community)
    done = MemberImportFactory(community=community, status=ImportStatus.DONE, content="")
    MemberImport.objects.filter(pk=done.pk).update(created_at=timezone.now() - timedelta(days=8))
    # when
    first = personal_data_expire_task.delay().get()
    second = personal_data_expire()
    # then
    old.refresh_from_db()
    assert (old.content, old.errors, old.status) == ("", [], ImportStatus.FAILED)
    assert "Upload it again" in old.message
    assert MemberImport.objects.get(pk=fresh.pk).content != ""
    assert (first["members"], first["imports"]) == (0, 1)
    assert (second["members"], second["imports"]) == (0, 0)


def test_a_link_token_is_deleted_a_month_after_it_expired(community):
    # given a confirmation link that expired 31 days ago, one that expired yesterday,
    # one still valid, and an unsubscribe token (which never expires)
    member = MemberFactory(community=community)
    stale = LinkTokenFactory(member=member, expires_at=LONG_AGO)
    late = LinkTokenFactory(member=member, expires_at=timezone.now() - timedelta(days=1))
    valid = LinkTokenFactory(member=member)
    forever = LinkTokenFactory(member=member, kind="unsubscribe", expires_at=None)
    # when
    result = personal_data_expire()
    again = personal_data_expire()
    # then
    assert result["link_tokens"] == 1 and again["link_tokens"] == 0
    assert set(LinkToken.objects.values_list("pk", flat=True)) == {late.pk, valid.pk, forever.pk}
    assert not LinkToken.objects.filter(pk=stale.pk).exists()
