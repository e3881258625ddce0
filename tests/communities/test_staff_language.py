"""Staff choose the language they read Chorus in; it follows them to every staff page and
to a new browser: ?lang= (remembered) > their account's language > the browser's."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories.communities import CommunityFactory

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request leaves its language active in the thread; later tests expect English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def surveys_url(organisation) -> str:
    return reverse("staff:survey_list", args=[organisation.slug])


def html_lang(page) -> tuple[str, str]:
    """The page's <html lang> and dir."""
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', page.content.decode())
    assert match, "the page has no <html lang dir>"
    return match.group(1), match.group(2)


def signed_in(user, **headers) -> Client:
    """A new browser (no cookies) of a user who signs in."""
    client = Client(**headers)
    client.force_login(user)
    return client


# --- ?lang= on a staff page ------------------------------------------------------------------


def test_lang_parameter_switches_a_staff_page_to_hebrew_right_to_left(staff_client, organisation):
    # when staff open their survey list with ?lang=he
    page = staff_client.get(surveys_url(organisation) + "?lang=he")
    # then it is in Hebrew, right to left
    assert page.status_code == 200
    assert html_lang(page) == ("he", "rtl")
    assert "סקרים" in page.content.decode()
    assert page["Content-Language"] == "he"


def test_lang_parameter_is_remembered_on_the_account_and_in_the_browser(
    staff_client, staff_user, organisation
):
    # when staff open a page with ?lang=ja
    page = staff_client.get(surveys_url(organisation) + "?lang=ja")
    # then their account and this browser remember it
    staff_user.refresh_from_db()
    assert staff_user.locale == "ja"
    assert page.cookies[COOKIE].value == "ja"
    # and the next page, without ?lang=, is in Japanese too
    later = staff_client.get(reverse("staff:community_list", args=[organisation.slug]))
    assert html_lang(later) == ("ja", "ltr")


def test_the_remembered_language_follows_the_user_to_a_new_browser(staff_user, organisation):
    # given staff chose Thai on one computer
    signed_in(staff_user).get(surveys_url(organisation) + "?lang=th")
    # when they sign in on another browser that asks for English
    page = signed_in(staff_user, HTTP_ACCEPT_LANGUAGE="en").get(surveys_url(organisation))
    # then the staff page is in Thai
    assert html_lang(page) == ("th", "ltr")


def test_the_account_language_wins_over_the_browser_and_its_cookie(staff_user, organisation):
    # given an account set to Hebrew, and a browser that asks for Japanese
    staff_user.locale = "he"
    staff_user.save()
    client = signed_in(staff_user, HTTP_ACCEPT_LANGUAGE="ja")
    client.cookies[COOKIE] = "ja"
    # when they open a staff page
    page = client.get(surveys_url(organisation))
    # then it is in Hebrew
    assert html_lang(page) == ("he", "rtl")


def test_with_no_choice_the_browser_language_is_used(staff_user, organisation):
    # given an account that never chose a language
    assert staff_user.locale == ""
    # when the browser asks for Hebrew
    page = signed_in(staff_user, HTTP_ACCEPT_LANGUAGE="he,en;q=0.5").get(surveys_url(organisation))
    # then the page is in Hebrew, and nothing is written to the account
    assert html_lang(page) == ("he", "rtl")
    staff_user.refresh_from_db()
    assert staff_user.locale == ""


@pytest.mark.parametrize("value", ["xx", "", "../../etc", "he" * 200, "zz-" + "a" * 50])
def test_an_unknown_lang_parameter_is_ignored(staff_client, staff_user, organisation, value):
    # given an account set to Thai
    staff_user.locale = "th"
    staff_user.save()
    # when a page is asked for in a language Chorus does not speak
    page = staff_client.get(surveys_url(organisation), {"lang": value})
    # then the page is in the account's language and nothing changes
    assert page.status_code == 200
    assert html_lang(page) == ("th", "ltr")
    staff_user.refresh_from_db()
    assert staff_user.locale == "th"
    assert COOKIE not in page.cookies


def test_a_regional_lang_parameter_means_its_language(staff_client, staff_user, organisation):
    page = staff_client.get(surveys_url(organisation) + "?lang=he-IL")
    assert html_lang(page) == ("he", "rtl")
    staff_user.refresh_from_db()
    assert staff_user.locale == "he"


def test_the_staff_home_and_every_section_follow_the_choice(staff_user, organisation):
    # given an account set to Japanese
    staff_user.locale = "ja"
    staff_user.save()
    client = signed_in(staff_user)
    # then the staff home and the pages of every section are in Japanese
    for url in (
        reverse("staff_home"),
        surveys_url(organisation),
        reverse("staff:case_list", args=[organisation.slug]),
        reverse("staff:team", args=[organisation.slug]),
        reverse("staff:api_tokens", args=[organisation.slug]),
    ):
        assert html_lang(client.get(url)) == ("ja", "ltr"), url


def test_another_organisations_page_is_still_404_whatever_the_language(
    staff_client, other_organisation
):
    page = staff_client.get(surveys_url(other_organisation) + "?lang=he")
    assert page.status_code == 404


def test_a_signed_out_visitor_to_a_staff_page_is_sent_to_sign_in(client, organisation):
    page = client.get(surveys_url(organisation) + "?lang=he")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


# --- the switcher in the staff navigation ---------------------------------------------------


def test_every_staff_page_offers_the_four_languages_each_in_its_own_language(
    staff_client, organisation
):
    page = staff_client.get(surveys_url(organisation) + "?lang=he").content.decode()
    form = re.search(r'<form method="post" action="/staff-language/".*?</form>', page, re.S)
    assert form, "no language form in the staff navigation"
    html = form.group(0)
    for code, name in (("en", "English"), ("th", "ไทย"), ("he", "עברית"), ("ja", "日本語")):
        button = re.search(rf'<button[^>]*value="{code}" lang="{code}"[^>]*>([^<]+)</button>', html)
        assert button and name in button.group(1), code
    # the current one is marked, and the page returns to itself
    assert re.search(r'value="he" lang="he" aria-current="true"', html)
    assert 'name="next" value="/staff/demo-coffee/surveys/?lang=he"' in html


def test_choosing_a_language_remembers_it_and_returns_to_the_page(
    staff_client, staff_user, organisation
):
    # when staff choose Hebrew on their survey list
    answer = staff_client.post(
        reverse("staff_language"), {"language": "he", "next": surveys_url(organisation)}
    )
    # then they are back on the page, and the account and browser remember Hebrew
    assert answer.status_code == 302
    assert answer["Location"] == surveys_url(organisation)
    assert answer.cookies[COOKIE].value == "he"
    staff_user.refresh_from_db()
    assert staff_user.locale == "he"
    assert html_lang(staff_client.get(answer["Location"])) == ("he", "rtl")


def test_choosing_a_language_drops_an_older_lang_parameter_from_the_page(
    staff_client, organisation
):
    # given the page was opened with ?lang=ja and a filter
    came_from = surveys_url(organisation) + "?status=live&lang=ja"
    # when staff choose Thai there
    answer = staff_client.post(reverse("staff_language"), {"language": "th", "next": came_from})
    # then they return to the page with its filter, and Thai is not overruled by ?lang=ja
    assert answer["Location"] == surveys_url(organisation) + "?status=live"
    assert html_lang(staff_client.get(answer["Location"])) == ("th", "ltr")


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/staff/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "",
        None,
    ],
)
def test_choosing_a_language_never_redirects_off_site(staff_client, staff_user, next_url):
    data = {"language": "ja"} | ({} if next_url is None else {"next": next_url})
    answer = staff_client.post(reverse("staff_language"), data)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("staff_home")
    staff_user.refresh_from_db()
    assert staff_user.locale == "ja"


@pytest.mark.parametrize("language", ["xx", "", "he" * 100, None])
def test_choosing_an_unknown_language_is_refused_and_changes_nothing(
    staff_client, staff_user, organisation, language
):
    data = {"next": surveys_url(organisation)} | (
        {} if language is None else {"language": language}
    )
    answer = staff_client.post(reverse("staff_language"), data)
    assert answer.status_code == 400
    assert COOKIE not in answer.cookies
    staff_user.refresh_from_db()
    assert staff_user.locale == ""


def test_choosing_twice_keeps_the_last_choice(staff_client, staff_user):
    staff_client.post(reverse("staff_language"), {"language": "he"})
    staff_client.post(reverse("staff_language"), {"language": "he"})
    staff_client.post(reverse("staff_language"), {"language": "th"})
    staff_user.refresh_from_db()
    assert staff_user.locale == "th"


def test_the_language_choice_is_a_post_with_a_csrf_token(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.get(reverse("staff_language"), {"language": "he"}).status_code == 405
    assert client.post(reverse("staff_language"), {"language": "he"}).status_code == 403
    staff_user.refresh_from_db()
    assert staff_user.locale == ""


def test_a_signed_out_visitor_can_choose_a_language_for_this_browser_only(client):
    answer = client.post(reverse("staff_language"), {"language": "he", "next": "/accounts/login/"})
    assert answer.status_code == 302 and answer["Location"] == "/accounts/login/"
    assert answer.cookies[COOKIE].value == "he"


# --- member and respondent pages keep their own rule -----------------------------------------


def test_a_staff_users_account_language_does_not_change_member_pages(staff_user, organisation):
    # given staff whose account is set to Hebrew, with a browser asking for English
    staff_user.locale = "he"
    staff_user.save()
    community = CommunityFactory(organisation=organisation)
    client = signed_in(staff_user, HTTP_ACCEPT_LANGUAGE="en")
    # when they open the community's public join page
    page = client.get(reverse("community:join", args=[organisation.slug, community.slug]))
    # then it follows the member pages' rule (?lang=, the member's, the browser's): English
    assert html_lang(page) == ("en", "ltr")
    # and ?lang= there still works, without changing the staff account's choice
    page = client.get(
        reverse("community:join", args=[organisation.slug, community.slug]) + "?lang=th"
    )
    assert html_lang(page) == ("th", "ltr")
    staff_user.refresh_from_db()
    assert staff_user.locale == "he"


# --- Hebrew staff pages read right --------------------------------------------------------------


def test_a_public_address_on_a_hebrew_community_page_reads_left_to_right(
    staff_client, organisation
):
    # given a community, read in Hebrew
    community = CommunityFactory(organisation=organisation)
    page = staff_client.get(
        reverse("staff:community_detail", args=[organisation.slug, community.pk]) + "?lang=he"
    ).content.decode()
    # then its member page address is marked left-to-right, so "/" stays where it belongs
    home = reverse("surveys:community_home", args=[organisation.slug, community.slug])
    link = re.search(rf'<a href="http://testserver{re.escape(home)}"[^>]*>', page)
    assert link and 'dir="ltr"' in link.group(0)


def test_the_segment_delete_buttons_name_starts_with_its_hebrew_label(staff_client, organisation):
    # given a segment, and its list read in Hebrew
    from tests.factories.communities import SegmentFactory

    segment = SegmentFactory(community=CommunityFactory(organisation=organisation), name="VIP")
    page = staff_client.get(
        reverse("staff:segment_list", args=[organisation.slug, segment.community_id]) + "?lang=he"
    ).content.decode()
    # then the button's accessible name contains what it shows (WCAG 2.5.3 label in name):
    # the visible word, then the segment's name for screen readers
    button = re.search(r'<button class="btn btn-sm btn-outline-danger"[^>]*>(.*?)</button>', page)
    assert button, "no Delete button"
    assert "aria-label" not in button.group(0)
    assert button.group(1) == 'מחיקה<span class="visually-hidden"> VIP</span>'


@pytest.mark.parametrize("language", ["en", "th", "he", "ja"])
def test_the_consent_buttons_names_contain_what_they_show_in_every_language(
    member_client, member, community, language
):
    # given a member who gave marketing consent, reading their consent centre
    from communities.choices import ConsentPurpose
    from tests.factories.communities import ConsentRecordFactory

    ConsentRecordFactory(member=member, purpose=ConsentPurpose.MARKETING, granted=True)
    page = member_client.get(
        reverse("community:consent", args=[community.organisation.slug, community.slug]),
        {"lang": language},
    ).content.decode()
    # then every button's accessible name starts with its visible text (WCAG 2.5.3)
    buttons = re.findall(r'<button[^>]*aria-label="([^"]*)"[^>]*>([^<]*)</button>', page)
    assert buttons
    for name, shown in buttons:
        assert name.startswith(shown.strip()), (name, shown)


def test_the_api_address_on_the_hebrew_api_keys_page_reads_left_to_right(
    staff_client, organisation
):
    page = staff_client.get(
        reverse("staff:api_tokens", args=[organisation.slug]) + "?lang=he"
    ).content.decode()
    assert '<code dir="ltr">POST /api/v1/demo-coffee/events/</code>' in page
    assert "מערכות אחרות" in page


# --- account pages follow the page a visitor came from -----------------------------------


def test_a_signed_out_visitor_reads_the_code_sign_in_page_in_the_language_asked_for(client):
    # given a phone whose browser asks for English
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    # when the community page's Thai "Sign in" link is followed
    response = client.get(reverse("account_request_login_code"), {"lang": "th"})
    # then the page is Thai and the choice is remembered for the next page
    assert '<html lang="th"' in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "th"
    follow = client.get(reverse("account_login"))
    assert '<html lang="th"' in follow.content.decode()


def test_an_unknown_language_on_an_account_page_changes_nothing(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    response = client.get(reverse("account_login"), {"lang": "xx"})
    assert '<html lang="ja"' in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_community_sign_in_link_carries_the_page_language(client, community):
    home = reverse("surveys:community_home", args=[community.organisation.slug, community.slug])
    html = client.get(home, {"lang": "he"}).content.decode()
    assert f"{reverse('account_request_login_code')}?lang=he&amp;next=" in html
