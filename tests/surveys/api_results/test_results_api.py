"""A survey's results through the API: every figure of the staff results page, computed
independently here from the answers the test seeds and compared with the page's own; the
organisation's minimum group size withholding what the page withholds, marked
`suppressed`; scoped, role-checked and in a fixed number of queries."""

from __future__ import annotations

import uuid
from statistics import mean

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from communities.choices import Role
from communities.services import api_token_create
from surveys.choices import ChannelKind, QuestionType, SurveyKind
from surveys.models import Choice
from surveys.services import question_add, response_submit, survey_create, survey_publish
from tests.factories.communities import LocationFactory, StaffRoleFactory
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import AnswerFactory, ChannelFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db

K = 3
# (store or None, channel kind or None, language, nps, stars, single choice, multi choices,
# text, sentiment)
SEED = [
    ("Silom", ChannelKind.KIOSK, "en", 10, 5, "Coffee", ["Coffee", "Cake"], "Lovely", 0.8),
    ("Silom", ChannelKind.KIOSK, "th", 9, 4, "Coffee", None, "", None),
    ("Silom", ChannelKind.KIOSK, "th", 3, 2, "Cake", None, "Cold", -0.6),
    ("Silom", ChannelKind.KIOSK, "en", 7, 4, "Wi-Fi", None, "", None),
    ("Ari", ChannelKind.KIOSK, "en", 0, 1, "Cake", ["Wi-Fi"], "Awful", -0.9),
    ("Ari", ChannelKind.KIOSK, "he", 8, 3, None, None, "", None),
    (None, None, "en", 6, 5, "Coffee", None, "Fine", 0.1),
    (None, ChannelKind.EMAIL, "ja", 10, None, "Wi-Fi", None, "", None),
]


def api_url(organisation, survey) -> str:
    return reverse("api:survey_results", args=[organisation.slug, survey.pk])


def page_url(organisation, survey) -> str:
    return reverse("staff:survey_results", args=[organisation.slug, survey.pk])


def analyst(organisation) -> APIClient:
    client = APIClient()
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user)
    return client


@pytest.fixture
def seeded(organisation, survey):
    """The survey with SEED's answers (and an open case on the detractor's response)."""
    organisation.min_group_size = K
    organisation.save(update_fields=["min_group_size"])
    questions = {q.type: q for q in survey.questions.all()}
    choices = {(q.type, c.label["en"]): c for q in questions.values() for c in q.choices.all()}
    channels, stores = {}, {}
    for store, kind, language, nps, stars, one, many, text, sentiment in SEED:
        location = (
            stores.setdefault(store, LocationFactory(organisation=organisation, name=store))
            if store
            else None
        )
        channel = None
        if kind is not None:
            channel = channels.setdefault(
                (store, kind),
                ChannelFactory(
                    survey=survey,
                    kind=kind,
                    location=location,
                    device_token=uuid.uuid4().hex if kind == ChannelKind.KIOSK else None,
                ),
            )
        response = ResponseFactory(
            survey=survey, language=language, channel=channel, location=location
        )
        AnswerFactory(response=response, question=questions[QuestionType.NPS], number=nps)
        if stars is not None:
            AnswerFactory(response=response, question=questions[QuestionType.STAR], number=stars)
        if one is not None:
            answer = AnswerFactory(
                response=response, question=questions[QuestionType.SINGLE_CHOICE], number=None
            )
            answer.choices.set([choices[(QuestionType.SINGLE_CHOICE, one)]])
        if many is not None:
            answer = AnswerFactory(
                response=response, question=questions[QuestionType.MULTI_CHOICE], number=None
            )
            answer.choices.set([choices[(QuestionType.MULTI_CHOICE, label)] for label in many])
        if text:
            AnswerFactory(
                response=response,
                question=questions[QuestionType.TEXT],
                number=None,
                text=text,
                sentiment=sentiment,
            )
        if nps <= 3:
            CaseFactory(response=response)
    return survey


# --- figures computed here, from SEED alone -------------------------------------------------


def expected_headline() -> dict:
    scores = [row[3] for row in SEED]
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    stars = [row[4] for row in SEED if row[4] is not None]
    sentiments = [row[8] for row in SEED if row[8] is not None]
    assert (promoters, len(scores) - promoters - detractors, detractors) == (3, 2, 3)
    return {
        "responses": len(SEED),
        "withheld": False,
        "nps": {
            "score": round(100 * (promoters - detractors) / len(scores), 1),
            "answers": len(scores),
            # two passives are fewer than K, and the smaller of the others (by name, on a
            # tie) is hidden with them, so the NPS answers minus the shown part say nothing
            "promoters": promoters,
            "passives": None,
            "detractors": None,
        },
        "has_csat": False,
        "csat": None,
        "stars": round(mean(stars), 2),
        "sentiment": round(mean(sentiments), 2),
        "cases_open": sum(row[3] <= 3 for row in SEED),
    }


def test_the_results_api_gives_every_figure_the_seed_implies(organisation, seeded):
    # when
    body = analyst(organisation).get(api_url(organisation, seeded)).json()

    # then: the headline
    for name, value in expected_headline().items():
        assert body[name] == value, name
    assert body["min_group_size"] == K and body["pooled"] == 0 and not body["filtered"]
    # by language: en 4, th 2, he 1, ja 1; the three small ones hidden together
    languages = {r["language"]: (r["responses"], r["suppressed"]) for r in body["by_language"]}
    assert languages == {
        "en": (4, False),
        "th": (None, True),
        "he": (None, True),
        "ja": (None, True),
    }
    # by channel: kiosk 6, link 1 (the public link), email 1: the two small ones make 2,
    # still under K, so kiosk is hidden too (its 6 would give their 2 away)
    assert {r["channel"]: r["suppressed"] for r in body["by_channel"]} == {
        "kiosk": True,
        "email": True,
        "link": True,
    }
    # by store: each store once, with a column per channel and its total
    stores = {r["store"]: r for r in body["by_store"]}
    assert list(stores) == ["Ari", "Silom", "No store"]
    assert (stores["Silom"]["responses"], stores["Silom"]["suppressed"]) == (4, False)
    assert stores["Silom"]["nps"] == round(100 * (2 - 1) / 4, 1)
    assert stores["Ari"]["suppressed"] and stores["No store"]["suppressed"]
    assert [c["channel"] for c in stores["Silom"]["channels"]] == ["link", "email", "kiosk"]
    # each question's split: every cell of the scale or every choice, in order
    questions = {q["type"]: q for q in body["questions"]}
    nps = questions["nps"]
    assert nps["answers"] == 8 and not nps["suppressed"]
    assert [c["value"] for c in nps["distribution"]] == list(range(11))
    counts = {c["value"]: c["count"] for c in nps["distribution"]}
    # every score but 10 (twice) is given once or never: the ones are hidden, and with
    # them 10, as they come to 6 of 8
    assert counts == {n: (0 if not sum(row[3] == n for row in SEED) else None) for n in range(11)}
    single = questions["single_choice"]
    assert [(c["label"], c["count"]) for c in single["distribution"]] == [
        ("Coffee", 3),
        ("Cake", None),
        ("Wi-Fi", None),
    ]
    assert single["distribution"][0]["percent"] == round(100 * 3 / 7)
    # fewer than K answered the multiple choice: its split and its count are withheld
    multi = questions["multi_choice"]
    assert multi["answers"] is None and multi["suppressed"] is True
    assert {c["label"] for c in multi["distribution"]} == {"Coffee", "Cake", "Wi-Fi"}
    assert all(c["count"] is None and c["percent"] is None for c in multi["distribution"])
    assert questions["text"]["answers"] == 4 and questions["text"]["distribution"] == []


def test_the_results_api_says_what_the_staff_results_page_shows(organisation, seeded, staff_client):
    # given: the page as staff see it
    page = staff_client.get(page_url(organisation, seeded))
    shown = page.context["results"]

    # when
    body = analyst(organisation).get(api_url(organisation, seeded)).json()

    # then: the same figures
    assert body["responses"] == shown.responses
    assert body["nps"] == {
        "score": shown.nps.score,
        "answers": shown.nps.answers,
        "promoters": shown.nps.promoters,
        "passives": shown.nps.passives,
        "detractors": shown.nps.detractors,
    }
    assert body["stars"] == shown.stars and body["cases_open"] == shown.cases_open
    assert body["sentiment"] == shown.sentiment
    assert [(r["language"], r["responses"]) for r in body["by_language"]] == [
        (c.key, c.responses) for c in shown.by_language
    ]
    assert [(r["label"], r["responses"]) for r in body["by_channel"]] == [
        (c.label, c.responses) for c in shown.stores.by_channel
    ]
    assert [
        (r["store"], r["responses"], [c["responses"] for c in r["channels"]])
        for r in body["by_store"]
    ] == [
        (row.label, row.total.responses, [c.responses for c in row.cells])
        for row in shown.stores.rows
    ]
    # and the page prints no hidden figure: Silom's 4 is there, no 2 beside Ari
    html = page.content.decode()
    assert 'data-store="Silom"' in html and 'data-store="Ari"' in html
    assert html.count("fewer than 3") >= 5


def test_a_filter_narrowing_below_the_minimum_shows_no_figures(organisation, seeded, staff_client):
    # given: two responses in Thai (fewer than K)
    client = analyst(organisation)

    # when
    body = client.get(api_url(organisation, seeded), {"language": "th"}).json()
    page = staff_client.get(page_url(organisation, seeded), {"language": "th"})

    # then: no figures at all, not even how many matched
    assert body["filtered"] and body["withheld"] and body["responses"] is None
    assert body["nps"] is None and body["by_store"] == [] and body["questions"] == []
    assert page.context["results"].withheld
    assert 'id="results-withheld"' in page.content.decode()
    # and a wide enough filter shows its figures
    english = client.get(api_url(organisation, seeded), {"language": "en"}).json()
    assert english["responses"] == 4 and english["nps"]["score"] == -25.0


@pytest.mark.parametrize(
    "params",
    [
        {"channel": "pigeon"},
        {"until": ""},
        {"since": "2026-5-1"},
        {"since": "yesterday"},
        {"location": "abc"},
        {"language": "fr"},
    ],
)
def test_a_filter_that_makes_no_sense_is_a_clear_error(organisation, seeded, params):
    # when
    answer = analyst(organisation).get(api_url(organisation, seeded), params)

    # then
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    assert {e["parameter"] for e in answer.json()["errors"]} == set(params)


@pytest.mark.parametrize(
    "params",
    [
        {"location": "0"},
        {"since": "2026-05-02", "until": "2026-05-01"},
        {"since": "0001-01-01"},
    ],
)
def test_a_filter_of_the_right_shape_the_data_refuses_is_a_422(organisation, seeded, params):
    # when: a store id of no store here, a range that ends before it starts, a year of none
    answer = analyst(organisation).get(api_url(organisation, seeded), params)

    # then
    assert answer.status_code == 422 and answer.json()["code"] == "unprocessable"


@pytest.fixture
def poll(organisation, community):
    organisation.min_group_size = K
    organisation.save(update_fields=["min_group_size"])
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type="single_choice",
        text={"en": "Should we stock oat milk?"},
        choices=[{"en": "Yes please"}, {"en": "No thanks"}, {"en": "Don't mind"}],
    )
    return survey_publish(survey=poll)


def vote(poll, label: str) -> None:
    question = poll.questions.get()
    choice = Choice.objects.get(question=question, label__en=label)
    response_submit(
        survey=poll, raw_answers={f"q_{question.pk}": choice.pk}, idempotency_key=uuid.uuid4().hex
    )


def test_a_polls_split_is_the_pages_and_withheld_below_the_minimum(
    organisation, poll, staff_client
):
    # given: two votes, fewer than K
    vote(poll, "Yes please")
    vote(poll, "No thanks")
    client = analyst(organisation)

    # when
    body = client.get(api_url(organisation, poll)).json()
    assert body["withheld"] and body["responses"] == 2
    early = (body["questions"] or [None])[0]

    # then: withheld, as the page withholds it
    assert staff_client.get(page_url(organisation, poll)).context["poll"] is None
    assert early is None or (early["answers"] is None and early["suppressed"] is True)
    early = {"distribution": []} if early is None else early
    assert all(cell["count"] is None for cell in early["distribution"])

    # when four more come (3 yes, 3 no: no count under K)
    for label in ("Yes please", "No thanks", "No thanks", "Yes please"):
        vote(poll, label)
    later = client.get(api_url(organisation, poll)).json()["questions"][0]
    shown = staff_client.get(page_url(organisation, poll)).context["poll"]

    # then: the page's bars, cell for cell
    assert not shown.suppressed and later["suppressed"] is False
    assert (
        [(c["label"], c["count"], c["percent"]) for c in later["distribution"]]
        == [(cell.label, cell.count, cell.percent) for cell in shown.cells]
        == [("Yes please", 3, 50), ("No thanks", 3, 50), ("Don't mind", 0, 0)]
    )


def test_results_are_read_in_the_same_queries_however_many_answers(
    organisation, survey, django_assert_num_queries
):
    # given: a survey with a few responses (enough to show figures), and then many
    question = survey.questions.get(type=QuestionType.NPS)
    for n in range(organisation.min_group_size):
        AnswerFactory(response=ResponseFactory(survey=survey), question=question, number=n)
    client = analyst(organisation)
    client.get(api_url(organisation, survey))
    with CaptureQueriesContext(connection) as few:
        client.get(api_url(organisation, survey))
    for n in range(30):
        AnswerFactory(response=ResponseFactory(survey=survey), question=question, number=n % 11)

    # when / then
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(api_url(organisation, survey)).status_code == 200


def test_results_are_scoped_to_the_organisation_and_to_who_may_read_them(
    organisation, other_organisation, survey
):
    # given
    theirs = SurveyFactory(organisation=other_organisation)
    agent = APIClient()
    agent.force_login(StaffRoleFactory(organisation=organisation, role=Role.AGENT).user)
    results_key = api_token_create(organisation=organisation, name="BI", scopes=["results:read"])[1]
    cases_key = api_token_create(organisation=organisation, name="Desk", scopes=["cases:write"])[1]

    def with_key(key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    # when / then
    assert analyst(organisation).get(api_url(organisation, theirs)).status_code == 404
    assert analyst(organisation).get(api_url(other_organisation, theirs)).status_code == 404
    assert agent.get(api_url(organisation, survey)).status_code == 403
    assert with_key(results_key).get(api_url(organisation, survey)).status_code == 200
    assert with_key(results_key).get(api_url(organisation, theirs)).status_code == 404
    assert with_key(cases_key).get(api_url(organisation, survey)).status_code == 403
