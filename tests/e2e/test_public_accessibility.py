"""Every page a customer meets passes axe-core's WCAG 2.2 A/AA rules, in English, Thai,
Hebrew (right to left) and Japanese, in each state a customer sees it in.

A customer is anyone who is not staff: a visitor to the start page, a community's
visitors and members, a respondent from a public or an emailed link, a voter in a quick
poll, and a walk-in customer at a shop's kiosk. The language comes from the link's
`?lang=` where the page takes one, else from the browser's language cookie. Each test
visits all its pages and reports every problem at once, page by page.

The keyboard checks of the survey page and the kiosk are in test_public_keyboard.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page

from communities.choices import ConsentPurpose, JoinMode
from communities.services.consent import unsubscribe_token
from communities.services.joining import member_confirm_token, member_invitation_token
from rewards.choices import LedgerReason
from surveys.choices import Anonymity, QuestionType, SurveyKind, SurveyStatus
from surveys.models import Survey
from surveys.services import (
    kiosk_register,
    kiosk_revoke,
    question_add,
    survey_create,
    survey_publish,
)
from surveys.services.invitations import invitation_link_token
from tests.e2e.conftest import axe_violations, sign_in_as
from tests.factories.communities import (
    CommunityFactory,
    ConsentRecordFactory,
    LocationFactory,
    MemberFactory,
    UserFactory,
)
from tests.factories.rewards import LedgerEntryFactory, RewardFactory
from tests.factories.surveys import ParticipationFactory, SurveyInvitationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LANGUAGES = [("en", "ltr"), ("th", "ltr"), ("he", "rtl"), ("ja", "ltr")]
TABLET = {"width": 800, "height": 1280}


def words(en: str, th: str, he: str, ja: str) -> dict[str, str]:
    return {"en": en, "th": th, "he": he, "ja": ja}


# --- what customers meet: one organisation with one of everything -----------------------------


def survey_with_every_kind_of_question(*, organisation, community) -> Survey:
    """A live survey asking every question type, with an "other" box and show-if rules,
    in four languages; the respondent may choose to answer anonymously."""
    survey = survey_create(
        organisation=organisation,
        community=community,
        title=words("Your visit", "การมาเยือนของคุณ", "הביקור שלכם", "ご来店について"),
        languages=["en", "th", "he", "ja"],
    )
    nps = question_add(
        survey=survey,
        type=QuestionType.NPS,
        text=words(
            "How likely are you to recommend us?",
            "คุณจะแนะนำเราให้เพื่อนไหม",
            "האם תמליצו עלינו?",
            "友人に勧めますか？",
        ),
    )
    question_add(
        survey=survey,
        type=QuestionType.TEXT,
        text=words("What went wrong?", "มีอะไรผิดพลาด", "מה השתבש?", "何が問題でしたか？"),
        required=False,
        settings={"show_if": {"question": nps.pk, "op": "lte", "value": 6}},
    )
    question_add(
        survey=survey,
        type=QuestionType.STAR,
        text=words("Rate your visit", "ให้คะแนนการมาเยือน", "דרגו את הביקור", "ご来店の評価"),
    )
    question_add(
        survey=survey,
        type=QuestionType.CSAT,
        text=words("How satisfied are you?", "คุณพอใจแค่ไหน", "עד כמה אתם מרוצים?", "満足度は？"),
    )
    question_add(
        survey=survey,
        type=QuestionType.RATING,
        text=words("How clean was it?", "สะอาดแค่ไหน", "כמה נקי היה?", "清潔さは？"),
        required=False,
        settings={
            "min": 1,
            "max": 7,
            "min_label": words("Dirty", "สกปรก", "מלוכלך", "汚い"),
            "max_label": words("Spotless", "สะอาดมาก", "נקי מאוד", "とても清潔"),
        },
    )
    why = question_add(
        survey=survey,
        type=QuestionType.SINGLE_CHOICE,
        text=words("Why did you come?", "ทำไมคุณมา", "למה באתם?", "ご来店の理由"),
        settings={"other": True},
        choices=[
            words("Coffee", "กาแฟ", "קפה", "コーヒー"),
            words("Cake", "เค้ก", "עוגה", "ケーキ"),
        ],
    )
    question_add(
        survey=survey,
        type=QuestionType.MULTI_CHOICE,
        text=words("Which cakes?", "เค้กอะไร", "אילו עוגות?", "どのケーキ？"),
        required=False,
        settings={
            "other": True,
            "show_if": {"question": why.pk, "op": "in", "value": [why.choices.last().pk]},
        },
        choices=[
            words("Cheesecake", "ชีสเค้ก", "עוגת גבינה", "チーズケーキ"),
            words("Brownie", "บราวนี่", "בראוניז", "ブラウニー"),
        ],
    )
    question_add(
        survey=survey,
        type=QuestionType.YES_NO,
        text=words("Will you come back?", "จะกลับมาไหม", "תחזרו?", "また来ますか？"),
        required=False,
    )
    question_add(
        survey=survey,
        type=QuestionType.SHORT_TEXT,
        text=words("Your favourite dish", "เมนูโปรด", "המנה האהובה", "好きな料理"),
        required=False,
    )
    question_add(
        survey=survey,
        type=QuestionType.TEXT,
        text=words("Anything else?", "มีอะไรอีกไหม", "עוד משהו?", "その他"),
        required=False,
    )
    survey.anonymity = Anonymity.RESPONDENT_CHOICE
    survey.points = 10
    survey.save()
    return survey_publish(survey=survey)


def poll_in(*, organisation, community) -> Survey:
    poll = survey_create(
        organisation=organisation,
        community=community,
        title=words("Oat milk", "นมข้าวโอ๊ต", "חלב שיבולת שועל", "オーツミルク"),
        languages=["en", "th", "he", "ja"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type=QuestionType.SINGLE_CHOICE,
        text=words(
            "Should we stock oat milk?",
            "ควรมีนมข้าวโอ๊ตไหม",
            "להחזיק חלב שיבולת שועל?",
            "オーツミルクを置くべき？",
        ),
        choices=[
            words("Yes please", "เอาเลย", "כן, בבקשה", "はい"),
            words("No", "ไม่", "לא", "いいえ"),
        ],
    )
    return survey_publish(survey=poll)


@dataclass
class Customers:
    """Everything a customer can meet, and the links that lead there."""

    community: Any
    invite_only: Any
    member: Any
    survey: Survey
    poll: Survey
    closed: Survey
    scheduled: Survey

    @property
    def home(self) -> str:
        return f"/c/{self.community.organisation.slug}/{self.community.slug}/"


def build_customers() -> Customers:
    member_user = UserFactory(email="member@example.com", name="Mali Member")
    community = CommunityFactory(
        name="Regulars",
        slug="regulars",
        description="People who come in every week.",
        organisation__name="Demo Coffee",
        organisation__slug="demo-coffee",
        # A light amber: as text on white, or under white text, it reads at under 2:1
        # unless the page darkens it.
        organisation__brand_colour="#f5a623",
    )
    organisation = community.organisation
    invite_only = CommunityFactory(
        organisation=organisation, name="Insiders", slug="insiders", join_mode=JoinMode.INVITE_ONLY
    )
    member = MemberFactory(
        community=community, user=member_user, email=member_user.email, name="Mali Member"
    )
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    ConsentRecordFactory(member=member, purpose=ConsentPurpose.MARKETING, granted=False)
    LedgerEntryFactory(member=member, points=30, reason=LedgerReason.ADJUSTMENT)
    # Rewards to spend them on: one the member can afford, one they cannot.
    for name, cost in [
        (words("Cake", "เค้ก", "עוגה", "ケーキ"), 20),
        (words("Mug", "แก้วมัค", "ספל", "マグ"), 500),
    ]:
        RewardFactory(
            organisation=organisation,
            community=community,
            name=name["en"],
            translations={code: {"name": text} for code, text in name.items()},
            cost=cost,
            stock=None,
        )
    survey = survey_with_every_kind_of_question(organisation=organisation, community=community)
    poll = poll_in(organisation=organisation, community=community)
    closed = survey_with_every_kind_of_question(organisation=organisation, community=community)
    closed.status = SurveyStatus.CLOSED
    closed.save()
    scheduled = survey_with_every_kind_of_question(organisation=organisation, community=community)
    scheduled.opens_at = timezone.now() + timedelta(days=3)
    scheduled.save()
    # Something the member answered earlier, for the portal's recent activity.
    ParticipationFactory(survey=scheduled, member=member)
    return Customers(community, invite_only, member, survey, poll, closed, scheduled)


@pytest.fixture
def customers() -> Customers:
    return build_customers()


# --- the check ------------------------------------------------------------------------------


# What axe-core does not check: an answer marked as wrong must say so to a screen reader
# too (aria-invalid), and carry its message as its description.
UNSAID_ERRORS = """() => {
    const problems = [];
    for (const marked of document.querySelectorAll('.is-invalid, .question.has-error')) {
        if (marked.closest('[hidden]')) continue;
        const answers = 'input:not([type=hidden]):not([name$=_other]), textarea';
        const inputs = marked.matches('input, select, textarea')
            ? [marked] : [...marked.querySelectorAll(answers)];
        const described = [marked, ...inputs].some(el => (el.getAttribute('aria-describedby') || '')
            .split(' ').some(id => id && (document.getElementById(id)?.textContent || '').trim()));
        if (!described) problems.push(`${marked.id || marked.name}: marked without its message`);
        if (!inputs.every(el => el.getAttribute('aria-invalid') === 'true')) {
            problems.push(`${marked.id || marked.name}: marked, but not aria-invalid`);
        }
    }
    return problems;
}"""


class Audit:
    """Visits pages in one language and keeps what is wrong with each."""

    def __init__(self, page: Page, language: str, direction: str) -> None:
        self.page, self.language, self.direction = page, language, direction
        self.found: list[str] = []

    def url(self, path: str, **query: str) -> str:
        """`path` with `?lang=` (and any other query) for a page that takes it."""
        query = {**query, "lang": self.language}
        joined = "&".join(f"{key}={value}" for key, value in query.items())
        return f"{path}{'&' if '?' in path else '?'}{joined}"

    def by_cookie(self) -> None:
        """For pages without ?lang=: the language this browser chose earlier."""
        self.page.context.add_cookies(
            [{"name": "django_language", "value": self.language, "url": self.page.url}]
        )

    def visit(self, path: str, state: str, *, status: int = 200, lang: bool = True) -> None:
        answer = self.page.goto(self.url(path) if lang else path)
        if answer.status != status:
            self.found.append(f"{state}: {path} answered {answer.status}, not {status}")
        self.check(state)

    def check(self, state: str) -> None:
        """The page as it is now: its language, direction and axe-core's verdict."""
        html = self.page.locator("html")
        shown = (html.get_attribute("lang"), html.get_attribute("dir"))
        if shown != (self.language, self.direction):
            self.found.append(f"{state}: <html lang dir> is {shown}")
        for v in axe_violations(self.page):
            nodes = "\n    ".join(v["nodes"][:5])
            self.found.append(f"{state}: {v['id']} ({v['impact']}): {v['help']}\n    {nodes}")
        self.found += [f"{state}: {problem}" for problem in self.page.evaluate(UNSAID_ERRORS)]

    def submit(self, selector: str, state: str, *, status: int | None = None) -> None:
        """Press a form's button (named in any language: found by its place), then check."""
        with self.page.expect_navigation() as navigation:
            self.page.locator(selector).first.click()
        answer = navigation.value
        if status is not None and answer is not None and answer.status != status:
            self.found.append(f"{state}: answered {answer.status}, not {status}")
        self.check(state)

    def verdict(self) -> None:
        assert not self.found, f"in {self.language}:\n" + "\n".join(self.found)


def tick_label(page: Page, question_text: str, index: int) -> None:
    """Tap the index-th option of a question by its place (the words differ by language)."""
    asked = page.locator("fieldset.question").filter(has_text=question_text)
    asked.locator("label").nth(index).click()


# --- the pages ------------------------------------------------------------------------------

every_language = pytest.mark.parametrize(("language", "direction"), LANGUAGES)


@every_language
def test_the_pages_of_a_visitor_who_is_not_signed_in(
    page: Page, customers: Customers, language, direction
):
    """The start page, a community's home and poll, joining (and its mistakes), the
    emailed links to confirm or accept an invitation (and refused ones), the privacy policy."""
    audit = Audit(page, language, direction)
    home = customers.home
    audit.visit("/", "start page")
    audit.visit(home, "community home, signed out, poll not voted")
    audit.submit("section.poll form button[type=submit]", "community home, poll voted")
    audit.visit(f"{home}join/", "join page")
    audit.submit("main form[method=post] button[type=submit]", "join: nothing filled", status=400)
    audit.page.locator("#id_email").fill("not an address")
    audit.submit("main form[method=post] button[type=submit]", "join: bad address", status=400)
    audit.visit(f"{home}join/sent/", "join: email sent")
    audit.visit(f"/c/demo-coffee/{customers.invite_only.slug}/join/", "invite only", status=403)
    audit.visit(f"{home}confirm/forged-link/", "join confirmation link refused", status=400)
    pending = MemberFactory(community=customers.community, status="pending", user=None)
    audit.visit(f"{home}confirm/{member_confirm_token(member=pending)}/", "join confirmation")
    confirmed = MemberFactory(community=customers.community, user=None)
    audit.visit(
        f"{home}confirm/{member_confirm_token(member=confirmed)}/",
        "join confirmation link used",
        status=409,
    )
    invited = MemberFactory(community=customers.invite_only, status="invited", user=None)
    token = member_invitation_token(member=invited)
    invitation = f"/c/demo-coffee/{customers.invite_only.slug}/invitation/{token}/"
    audit.visit(invitation, "invitation to join")
    audit.submit("main form[method=post] button[type=submit]", "invitation: no consent", status=400)
    used = MemberFactory(community=customers.invite_only)
    used_link = f"/c/demo-coffee/{customers.invite_only.slug}/invitation/"
    audit.visit(
        used_link + f"{member_invitation_token(member=used)}/", "invitation used", status=409
    )
    audit.by_cookie()
    audit.visit(f"{home}privacy/", "privacy policy", lang=False)
    audit.verdict()


@every_language
def test_the_survey_pages_of_a_respondent(page: Page, customers: Customers, language, direction):
    """A survey of every question type as it unfolds, sent with answers missing, sent, sent
    again; closed and scheduled surveys; a poll; one question at a time; too much sent."""
    audit = Audit(page, language, direction)
    survey = f"/s/{customers.survey.public_id}/"
    nps = customers.survey.questions.get(type=QuestionType.NPS).text_for(language)
    why = customers.survey.questions.get(type=QuestionType.SINGLE_CHOICE).text_for(language)
    audit.visit(survey, "survey")
    # a low score and "cake" bring in the questions behind show-if rules
    tick_label(page, nps, 3)
    tick_label(page, why, 1)
    audit.check("survey: follow-up questions shown")
    audit.submit("form[data-survey-form] [type=submit]", "survey: required left", status=400)
    for question in customers.survey.questions.filter(required=True):
        tick_label(page, question.text_for(language), 1)
    audit.submit("form[data-survey-form] [type=submit]", "thank-you page", status=200)
    audit.visit(survey, "already answered", status=409)
    audit.visit(f"/s/{customers.closed.public_id}/", "closed survey", status=410)
    audit.visit(f"/s/{customers.scheduled.public_id}/", "scheduled survey", status=410)
    poll = f"/s/{customers.poll.public_id}/"
    audit.visit(poll, "poll, not voted")
    page.locator("section.poll form button[type=submit]").first.evaluate("b => b.value = 'x'")
    audit.submit("section.poll form button[type=submit]", "poll: vote not understood", status=400)
    audit.submit("section.poll form button[type=submit]", "poll, voted")
    customers.survey.one_question_per_page = True
    customers.survey.allow_multiple_responses = True
    customers.survey.save()
    audit.visit(survey, "survey, one question at a time")
    tick_label(page, nps, 9)
    page.locator("#survey-step-nav [data-step=next]").click()
    audit.check("survey, one question at a time: the second")
    # more than a server takes (Django's upload limit): sent from a page that let it through
    page.locator("textarea").last.evaluate(
        "box => { box.removeAttribute('maxlength'); box.disabled = false;"
        " box.value = 'x'.repeat(3 * 1024 * 1024); }"
    )
    with page.expect_navigation() as navigation:
        page.locator("form[data-survey-form]").evaluate("form => form.requestSubmit()")
    if navigation.value.status != 413:
        audit.found.append(f"too much sent: answered {navigation.value.status}, not 413")
    audit.check("survey: too much sent")
    audit.verdict()


@every_language
def test_the_pages_an_email_leads_to(page: Page, customers: Customers, language, direction):
    """A personal survey link (in the invitation's language, with or without a tapped
    score), a refused one, and unsubscribing."""
    audit = Audit(page, language, direction)
    invitation = SurveyInvitationFactory(
        survey=customers.survey,
        member=customers.member,
        email=customers.member.email,
        language=language,
    )
    link = invitation_link_token(invitation=invitation)
    audit.visit(f"/i/{link}/", "survey from an emailed link", lang=False)
    audit.visit(f"/i/{link}/?score=3", "survey from a score tapped in an email", lang=False)
    page.goto("/")
    audit.by_cookie()
    audit.visit("/i/forged-link/", "emailed survey link refused", status=400, lang=False)
    signed = unsubscribe_token(
        organisation_id=customers.member.organisation_id, email="guest@example.com"
    )
    unsubscribe = f"/u/{signed}/"
    audit.visit(unsubscribe, "unsubscribe: asked", lang=False)
    audit.submit("main form button[type=submit]", "unsubscribe: done")
    audit.visit("/u/forged-link/", "unsubscribe link refused", status=400, lang=False)
    audit.verdict()


@every_language
def test_the_pages_of_a_signed_in_member(
    context: BrowserContext,
    page: Page,
    customers: Customers,
    language,
    direction,
    live_server,
):
    """The portal and its tabs (profile, consent, leaving, rewards, my data), their
    mistakes, the new-terms gate, and the page after erasing oneself."""
    # a member who reads the community in this language
    customers.member.locale = language
    customers.member.save()
    sign_in_as(context, customers.member.user, live_server)
    audit = Audit(page, language, direction)
    home = customers.home
    audit.visit("/", "start page, signed in")
    audit.visit(home, "portal, poll not voted")
    audit.submit("section.poll form button[type=submit]", "portal, poll voted")
    audit.visit(f"{home}profile/", "profile")
    # a name longer than the box takes (as a page from before a limit changed sends)
    page.locator("#id_name").evaluate("box => box.removeAttribute('maxlength')")
    page.locator("#id_name").fill("x" * 300)
    audit.submit("main form[method=post] button[type=submit]", "profile: name too long", status=400)
    audit.visit(f"{home}consent/", "consent centre")
    audit.submit("main li form button[value=grant]", "consent centre: choice saved")
    audit.visit(f"{home}consent/?leave=1", "leave the community?")
    audit.visit(f"{home}rewards/", "rewards catalogue")
    audit.visit(f"{home}rewards/redemptions/", "my redemptions, none yet")
    audit.visit(f"{home}rewards/points/", "points history")
    audit.visit(f"{home}my-data/", "my data")
    page.locator("#id_confirmation").fill("no")
    audit.submit("form[action$='erase/'] button[type=submit]", "erase: not confirmed", status=400)
    customers.community.policy_version += 1
    customers.community.save()
    audit.visit(home, "new terms to accept")
    audit.visit(f"{home}my-data/", "my data, new terms waiting")
    page.locator("#id_confirmation").fill("ERASE")
    audit.submit("form[action$='erase/'] button[type=submit]", "erased")
    audit.verdict()


@pytest.fixture
def tablet(browser: Browser, live_server) -> Iterator[Page]:
    """A shop's tablet."""
    context = browser.new_context(
        viewport=TABLET, has_touch=True, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@every_language
def test_the_kiosk_pages(tablet: Page, customers: Customers, language, direction):
    """A registered kiosk: its survey, a send with answers missing, its thanks; a kiosk of a
    closed survey; a kiosk switched off."""
    audit = Audit(tablet, language, direction)
    store = LocationFactory(organisation=customers.community.organisation, name="Silom")
    kiosk = kiosk_register(survey=customers.survey, location=store)
    audit.visit(f"/k/{kiosk.device_token}/", "kiosk")
    pane = tablet.locator(f"section[data-kiosk-language={language}]")
    pane.locator("[type=submit]").click()
    tablet.locator("[data-kiosk-errors]:visible").wait_for()
    audit.check("kiosk: required left")
    for question in customers.survey.questions.filter(required=True):
        tick_label(tablet, question.text_for(language), 1)
    pane.locator("[type=submit]").click()
    tablet.locator("[data-kiosk-thanks]:visible").wait_for()
    audit.check("kiosk: thank you")
    audit.visit(f"/k/{kiosk.device_token}/", "kiosk again")
    closed = kiosk_register(survey=customers.closed, location=store)
    audit.visit(f"/k/{closed.device_token}/", "kiosk of a closed survey")
    kiosk_revoke(channel=kiosk)
    audit.visit(f"/k/{kiosk.device_token}/", "kiosk switched off", status=410)
    audit.verdict()
