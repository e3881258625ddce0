"""An attacker who can read the whole database cannot tie an anonymous answer to its member
(issue 19).

Known members answer an anonymous survey that awards points through the real respondent
page, in random order, detractors among them, with unrelated activity in between (an
identified survey, profile edits). The pool releases their answers as production does: the
k-th waiting answer enqueues the release, which runs after its request commits. Then the
attacker of tests/surveys/attacker.py reads every row and tries to link each member to
their response.

What the anonymity promises, as a specification:

- Answers are released in batches of k consecutive answers (k = max(5, the organisation's
  minimum group size)), each with its case and its points. Whoever watches the database may
  learn in which batch an answer was released: the batch is its anonymity set.
- Nothing more: no attack links more members to their own response than it would if,
  inside every batch, the responses had been handed out at random (`attack_judge`).

The ground truth (who gave which response) is a note only that member typed; the scorer
reads it, the attacks never do.
"""

import random
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from communities.services import member_activity_touch
from feedback.choices import Condition
from feedback.models import Case
from rewards.models import LedgerEntry
from surveys.choices import Anonymity, QuestionType
from surveys.models import Answer, Participation, PooledAnswer, Response, Survey
from surveys.services.writing import response_write
from tests.factories.communities import (
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
    OrganisationFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import FollowUpRuleFactory
from tests.factories.surveys import survey_with_every_question_type
from tests.surveys.attacker import (
    Guess,
    Verdict,
    attack_judge,
    disk_order_attack,
    id_order_attack,
    timestamp_attack,
    transaction_attack,
    window_count_attack,
)
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db(transaction=True)

MEMBERS = 35
POINTS = 25


# --- the world the attacker finds --------------------------------------------------------


@dataclass
class World:
    survey: Survey
    order: list[int]  # member ids, in the order they answered the anonymous survey
    notes: dict[int, str]  # member id -> the note only they typed (the ground truth)
    nps: dict[int, int]  # member id -> the score they gave
    released_together: list[list[int]]  # member ids whose answers one release turned out

    @property
    def k(self) -> int:
        """The issue's batch size: max(5, the organisation's minimum group size)."""
        return max(5, self.survey.organisation.min_group_size)

    @property
    def anonymity_sets(self) -> list[list[int]]:
        """What the design promises: each k consecutive answers are released together."""
        return [self.order[i : i + self.k] for i in range(0, len(self.order), self.k)]

    @property
    def detractors(self) -> set[int]:
        return {member for member, score in self.nps.items() if score <= 6}

    def truth(self) -> Guess:
        """Member id -> their response, found by the note they typed (the scorer only)."""
        by_note = dict(
            Answer.objects.filter(
                response__survey=self.survey, question_type=QuestionType.TEXT
            ).values_list("text", "response_id")
        )
        return {member: by_note[note] for member, note in self.notes.items() if note in by_note}


def anonymous_survey_answered(*, members: int, rng: random.Random) -> World:
    """`members` members answer an anonymous survey with points through the respondent
    page in random order, about 40% of them detractors, some of them answering an
    identified survey just before or editing their profile just after."""
    organisation = OrganisationFactory()
    community = CommunityFactory(organisation=organisation)
    survey = survey_with_every_question_type(
        organisation=organisation,
        community=community,
        anonymity=Anonymity.ANONYMOUS,
        anonymous_points=True,
        points=POINTS,
    )
    identified = survey_with_every_question_type(
        organisation=organisation, community=community, points=5
    )
    # Detractors open a case and alert staff by email: more rows made from each response.
    # The organisation's rule replaces the default ones, so only detractors get a case.
    StaffRoleFactory(organisation=organisation, role=Role.ADMIN)
    FollowUpRuleFactory(
        organisation=organisation, condition=Condition.NPS_AT_MOST, threshold=6, alert_staff=True
    )
    people = []
    for _ in range(members):
        user = UserFactory()
        member = MemberFactory(community=community, user=user, email=user.email)
        ConsentRecordFactory(member=member, policy_version=community.policy_version)
        browser = Client()
        browser.force_login(user)
        people.append((member, browser))
    rng.shuffle(people)
    detractors = {member.pk for member, _ in rng.sample(people, k=members * 2 // 5)}

    world = World(survey=survey, order=[], notes={}, nps={}, released_together=[])
    waiting = []
    profile = reverse("community:profile", args=[organisation.slug, community.slug])
    for member, browser in people:
        if rng.random() < 0.3:
            page = browser.post(
                reverse("surveys:survey_respond", args=[identified.public_id]),
                answers_for(identified, nps=rng.randint(0, 10)),
            )
            assert page.status_code == 302
        world.order.append(member.pk)
        world.notes[member.pk] = f"Visit note {secrets.token_hex(8)}"
        world.nps[member.pk] = rng.randint(0, 6) if member.pk in detractors else rng.randint(7, 10)
        page = browser.post(
            reverse("surveys:survey_respond", args=[survey.public_id]),
            answers_for(
                survey,
                nps=world.nps[member.pk],
                stars=rng.randint(1, 5),
                text=world.notes[member.pk],
            ),
        )
        assert page.status_code == 302
        waiting.append(member.pk)
        if not PooledAnswer.objects.filter(survey=survey).exists():
            world.released_together.append(waiting)
            waiting = []
        if rng.random() < 0.2:
            page = browser.post(
                profile, {"name": f"{member.name} ({rng.randint(1, 99)})", "language": "en"}
            )
            assert page.status_code == 302
    return world


# Every attack, by name; the last two read PostgreSQL's system columns.
ATTACKS = {
    "timestamps": timestamp_attack,
    "id order": id_order_attack,
    "per-window counts": window_count_attack,
    "ctid": disk_order_attack,
    "xmin/xmax": lambda survey: transaction_attack(survey)[0],
}
POSTGRESQL_ONLY = ("ctid", "xmin/xmax")


def attacks_judged(world: World, names: Iterable[str]) -> list[Verdict]:
    """The named attacks on the world's survey, each judged against its anonymity sets
    (those PostgreSQL alone can run are left out on another database)."""
    truth, sets = world.truth(), world.anonymity_sets
    return [
        attack_judge(
            attack=name, guesses=ATTACKS[name](world.survey), truth=truth, anonymity_sets=sets
        )
        for name in names
        if connection.vendor == "postgresql" or name not in POSTGRESQL_ONLY
    ]


# --- the tests ---------------------------------------------------------------------------


def test_every_anonymous_answer_is_released_in_batches_of_k_with_its_case_and_points():
    # given
    seed = secrets.randbits(32)
    # when
    world = anonymous_survey_answered(members=MEMBERS, rng=random.Random(seed))
    # then: released exactly as the design promises, k consecutive answers at a time
    assert world.released_together == world.anonymity_sets, f"seed {seed}"
    assert all(len(batch) >= world.k >= 5 for batch in world.released_together)
    assert not PooledAnswer.objects.exists()
    # and every answer became one response that names nobody
    truth = world.truth()
    responses = Response.objects.filter(survey=world.survey)
    assert sorted(truth) == sorted(world.order)
    assert sorted(truth.values()) == sorted(responses.values_list("pk", flat=True))
    assert not responses.filter(member__isnull=False).exists()
    assert not responses.filter(invitation__isnull=False).exists()
    assert set(responses.values_list("is_anonymous", flat=True)) == {True}
    scores = dict(
        Answer.objects.filter(
            response__survey=world.survey, question_type=QuestionType.NPS
        ).values_list("response_id", "number")
    )
    assert {member: scores[truth[member]] for member in world.order} == world.nps
    # and every detractor's response, and only those, has a case and a staff alert
    cases = set(
        Case.objects.filter(response__survey=world.survey).values_list("response_id", flat=True)
    )
    assert cases == {truth[member] for member in world.detractors}
    alerted = {
        int(re.search(r":response:(\d+):", key)[1])
        for key in OutboundEmail.objects.filter(template="case_alert").values_list(
            "idempotency_key", flat=True
        )
    }
    assert alerted & set(truth.values()) == cases
    # and every member got the survey's points, once
    paid = LedgerEntry.objects.filter(source=f"surveys.survey:{world.survey.pk}")
    assert sorted(paid.values_list("member_id", flat=True)) == sorted(world.order)
    assert set(paid.values_list("points", flat=True)) == {POINTS}
    assert not Participation.objects.filter(points_pending__gt=0).exists()


def test_timestamps_id_order_and_window_counts_tie_no_member_to_their_answer():
    # given
    seed = secrets.randbits(32)
    world = anonymous_survey_answered(members=MEMBERS, rng=random.Random(seed))
    assert world.released_together == world.anonymity_sets
    # when
    verdicts = attacks_judged(world, ["timestamps", "id order", "per-window counts"])
    # then
    report = "\n".join(map(str, verdicts))
    assert not [v for v in verdicts if v.beats_chance], f"seed {seed}\n{report}"


def test_disk_order_and_transaction_ids_tie_no_member_to_their_answer():
    if connection.vendor != "postgresql":
        pytest.skip("ctid, xmin and xmax are PostgreSQL's system columns")
    # given
    seed = secrets.randbits(32)
    world = anonymous_survey_answered(members=MEMBERS, rng=random.Random(seed))
    assert world.released_together == world.anonymity_sets
    # when
    _guesses, shared = transaction_attack(world.survey)
    verdicts = attacks_judged(world, POSTGRESQL_ONLY)
    # then: no transaction wrote, locked or deleted both a row naming a respondent and a
    # row of a response
    assert shared == set(), f"seed {seed}"
    # and neither where rows sit on disk nor the order of transactions beats chance
    report = "\n".join(map(str, verdicts))
    assert not [v for v in verdicts if v.beats_chance], f"seed {seed}\n{report}"


def _released_at_once(write: Callable[..., Any]) -> Callable[..., Any]:
    def stamped_now(**fields: Any) -> Any:
        return write(**fields | {"submitted_at": timezone.now(), "stored_at": timezone.now()})

    return stamped_now


def _active_at_once(touch: Callable[..., Any]) -> Callable[..., Any]:
    def touched_now(*, member_id: int, at: datetime) -> Any:
        return touch(member_id=member_id, at=timezone.now())

    return touched_now


# Pools broken on purpose (what to patch, with what), and the attacks that must catch them.
UNSHUFFLED = {"surveys.services.pool._shuffle": lambda rows: None}
ONE_AT_A_TIME = UNSHUFFLED | {"surveys.services.pool.pool_batch_size": lambda *, survey: 1}
BROKEN_POOLS = {
    # The batches of k are kept, but each is released in the order its answers came.
    "unshuffled batches": (UNSHUFFLED, ["id order", "ctid", "xmin/xmax"]),
    # Every answer is released alone, right after its own request (as if never pooled).
    "one answer per release": (ONE_AT_A_TIME, ["id order", "ctid", "xmin/xmax"]),
    # ... and stamped, like its member's last activity, with the moment rather than the hour.
    "one answer per release at the exact time": (
        ONE_AT_A_TIME
        | {
            "surveys.services.pool.response_write": _released_at_once(response_write),
            "surveys.services.responses.member_activity_touch": _active_at_once(
                member_activity_touch
            ),
        },
        ["timestamps"],
    ),
}


@pytest.mark.parametrize("broken", BROKEN_POOLS)
def test_the_attacker_catches_a_pool_that_gives_away_the_order_or_time_of_answers(
    monkeypatch, broken
):
    # given
    patches, catching = BROKEN_POOLS[broken]
    for target, stand_in in patches.items():
        monkeypatch.setattr(target, stand_in)
    world = anonymous_survey_answered(members=15, rng=random.Random(19))
    # when
    verdicts = attacks_judged(world, catching)
    # then: each of these attacks links members to their answers far beyond chance
    report = "\n".join(map(str, verdicts))
    assert verdicts and all(v.beats_chance for v in verdicts), report
