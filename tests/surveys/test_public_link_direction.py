"""A survey's public address reads left to right inside Hebrew staff pages, so its slashes
stay where they belong ("http://…/s/…", not "/http://…/s")."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["staff:survey_results", "staff:survey_edit"])
def test_the_public_link_is_marked_left_to_right_in_hebrew(
    client, organisation, survey, staff_user, page
):
    # given a staff member reading the page in Hebrew
    client.force_login(staff_user)
    url = reverse(page, kwargs={"org": organisation.slug, "pk": survey.pk})
    # when
    html = client.get(url, {"lang": "he"}).content.decode()
    # then the page is right to left and the address inside it is not
    assert 'dir="rtl"' in html
    public = reverse("surveys:survey_respond", args=[survey.public_id])
    anchor = html[html.index(f'href="http://testserver{public}"') :].split(">", 1)[0]
    assert 'dir="ltr"' in anchor
