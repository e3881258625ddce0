"""The world the submit-row scenarios (test_submit_rows.py) answer in: one organisation,
its community, a survey of every question type and named people, with every value that
could reach a written row spelled out."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from surveys.choices import QuestionType
from tests.factories.communities import (
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
    UserFactory,
)
from tests.factories.surveys import survey_with_every_question_type as every_type_survey
from tests.surveys.rowdump import Recorder

# --- the world the scenarios answer in --------------------------------------------------------

TEXTS = {
    "promoter": "Lovely flat white and friendly staff.",
    "negative": "Horrible, rude and terrible service. The coffee was awful.",
}


class World:
    """One organisation with a community, a survey of every question type, and people; every
    value that could reach a written row is spelled out (no factory sequences)."""

    def __init__(self, organisation, recorder: Recorder):
        self.recorder = recorder
        names = recorder.names
        organisation.sender_name = "Demo Coffee"
        organisation.reply_to_email = "hello@demo-coffee.example"
        organisation.save()
        self.organisation = organisation
        self.community = CommunityFactory(
            organisation=organisation, name="Regulars", slug="regulars", policy_version=2
        )
        self.survey = self.survey_named(
            "",
            every_type_survey(
                organisation=organisation,
                community=self.community,
                title={"en": "Your visit", "th": "การมาเยือน", "he": "הביקור", "ja": "ご来店"},
                points=10,
            ),
        )
        names.name(organisation, "organisation")
        names.name(self.community, "community")

    def survey_named(self, prefix: str, survey):
        names = self.recorder.names
        names.name(survey, f"{prefix}survey")
        names.secret(survey.public_id, f"<{prefix}survey public id>")
        for question in survey.questions.prefetch_related("choices"):
            names.name(question, f"{prefix}q{question.position}:{question.type}")
            for choice in question.choices.all():
                names.name(choice, f"{prefix}q{question.position}:{choice.label['en']}")
        return survey

    def member(self, name: str, **fields):
        """A signed-up member who accepted the community terms, signed in on a browser."""
        email = f"{name.lower()}@example.com"
        user = UserFactory(email=email, name=name.title())
        member = MemberFactory(
            community=self.community,
            user=user,
            email=email,
            name=f"{name.title()} Lima",
            referral_code=f"ref-{name.lower()}",
            **fields,
        )
        ConsentRecordFactory(member=member, policy_version=self.community.policy_version)
        self.recorder.names.name(user, f"user:{name.lower()}")
        self.recorder.names.name(member, f"member:{name.lower()}")
        member.client = Client()
        member.client.force_login(user)
        return member

    def answers(self, survey=None, *, nps=9, stars=5, text="", choose=True, key="") -> dict:
        """The respondent page's POST body: NPS, stars, the first single choice, the last
        two multiple choices and, when given, the text."""
        survey = survey or self.survey
        data = {"idempotency_key": key}
        for question in survey.questions.prefetch_related("choices"):
            name = f"q_{question.pk}"
            choices = [c.pk for c in question.choices.all()]
            if question.type == QuestionType.NPS:
                data[name] = nps
            elif question.type == QuestionType.STAR:
                data[name] = stars
            elif question.type == QuestionType.SINGLE_CHOICE and choose:
                data[name] = choices[0]
            elif question.type == QuestionType.MULTI_CHOICE and choose:
                data[name] = choices[1:]
            elif question.type == QuestionType.TEXT and text:
                data[name] = text
        return data

    def open(self, client: Client, survey=None) -> str:
        """Open the survey page as a browser does; the answer key its form carries."""
        survey = survey or self.survey
        url = reverse("surveys:survey_respond", args=[survey.public_id])
        return self.recorder.form_key(client.get(url))

    def send(self, client: Client, name: str, *, key: str, survey=None, extra=None, **answers):
        """Send the answers with `key`, as the step `name`."""
        survey = survey or self.survey
        url = reverse("surveys:survey_respond", args=[survey.public_id])
        data = {**self.answers(survey, key=key, **answers), **(extra or {})}
        return self.recorder.step(name, lambda: client.post(url, data), client)

    def post(self, client: Client, name: str, survey, data: dict):
        """Send `data` as it is (for surveys with their own questions)."""
        url = reverse("surveys:survey_respond", args=[survey.public_id])
        return self.recorder.step(name, lambda: client.post(url, data), client)

    def answer(self, client: Client, name: str = "submit", survey=None, **answers):
        """Open the page and send the answers."""
        return self.send(client, name, key=self.open(client, survey), survey=survey, **answers)
