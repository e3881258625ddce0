"""Properties of the points ledger under any sequence of what can happen to it.

Hypothesis drives a small community (three members, one of them with a tier discount, and
four rewards: a perk with stock, a voucher with two codes, an auto-approved donation, a
physical item limited to one per member) through awards (keys repeated, across members
too), redemption requests (request keys repeated), approvals, fulfilments, rejections,
member and staff cancellations, staff adjustments, bursts of activity and points expiry
(rewards.services.points_expire, on a simulated clock that jumps past the policy's
months). A plain Python model predicts every outcome; after each step the database must
agree with it, and:

- each member's balance is the sum of their entries, equals the model and is >= 0, and
  no prefix of their history (in the order it was written) ever went below zero;
- an award's key is in the ledger once, for the member and points it was first given;
- each redemption holds its points by one entry and returns them by at most one — one
  exactly when it was rejected or cancelled;
- stock is never negative and is what the model says; every voucher code belongs to at
  most one redemption, and the pool holds what the model says.
"""

import math
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from communities.models import Member
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption, Reward, VoucherCode
from rewards.selectors import member_balance
from rewards.services import (
    InsufficientPoints,
    RedemptionRefused,
    points_adjust,
    points_award,
    redemption_approve,
    redemption_cancel,
    redemption_fulfil,
    redemption_reject,
    redemption_request,
)
from rewards.services.expiry import points_expire
from tests.factories.communities import CommunityFactory, MemberFactory, UserFactory
from tests.factories.rewards import (
    MemberStandingFactory,
    RewardFactory,
    RewardsPolicyFactory,
    TierFactory,
    VoucherCodeFactory,
)

MEMBERS = 3
DISCOUNT = {0: 20}  # member 0 holds a tier with 20% off
EXPIRY_MONTHS = 12
OPEN = (RedemptionStatus.REQUESTED, RedemptionStatus.APPROVED)
RETURNED = (RedemptionStatus.REJECTED, RedemptionStatus.CANCELLED)

members_ = st.integers(0, MEMBERS - 1)
keys = st.sampled_from(["a", "b", "c", "d"])
picks = st.integers(0, 10_000)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back in teardown: a clean slate.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        community = CommunityFactory()
        organisation = community.organisation
        RewardsPolicyFactory(community=community, expiry_months=EXPIRY_MONTHS)
        self.staff = UserFactory()
        self.members = [MemberFactory(community=community) for _ in range(MEMBERS)]
        for index, percent in DISCOUNT.items():
            tier = TierFactory(community=community, discount_percent=percent)
            MemberStandingFactory(member=self.members[index], tier=tier)

        def reward(**fields):
            return RewardFactory(organisation=organisation, community=community, **fields)

        self.rewards = [
            reward(kind=RewardKind.PERK, cost=50, stock=2),
            reward(kind=RewardKind.VOUCHER, cost=30, stock=None),
            reward(kind=RewardKind.DONATION, cost=120, stock=None, auto_approve=True),
            reward(kind=RewardKind.PHYSICAL, cost=40, stock=3, per_member_limit=1),
        ]
        for n in range(2):
            VoucherCodeFactory(reward=self.rewards[1], code=f"V{n}")
        # The model.
        self.balance = [0] * MEMBERS
        self.stock = {r.pk: r.stock for r in self.rewards}
        self.free_codes = 2
        self.awards: dict[str, tuple[int, int]] = {}  # key -> (member index, points)
        self.adjustments: set[str] = set()
        self.request_keys: dict[str, tuple[int, int]] = {}  # key -> (member index, pk)
        self.redemptions: dict[int, dict] = {}  # pk -> member, reward, points, status
        self.clock = timezone.now()
        # Everyone starts with welcome points, so the first steps can already redeem.
        for index in range(MEMBERS):
            self.award(index=index, points=300, key=f"welcome-{index}")

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------------

    def _cost(self, index: int, reward: Reward) -> int:
        return max(1, math.ceil(reward.cost * (100 - DISCOUNT.get(index, 0)) / 100))

    def _pick(self, pick: int) -> tuple[int, dict]:
        pks = sorted(self.redemptions)
        pk = pks[pick % len(pks)]
        return pk, self.redemptions[pk]

    def _give_back(self, state: dict) -> None:
        was = state["status"]
        self.balance[state["member"]] += state["points"]
        reward = self.rewards[state["reward"]]
        if reward.kind == RewardKind.VOUCHER:
            if was == RedemptionStatus.REQUESTED:
                self.free_codes += 1
        elif self.stock[reward.pk] is not None:
            self.stock[reward.pk] += 1

    # --- rules -----------------------------------------------------------------------------

    @rule(index=members_, points=st.integers(1, 200), key=keys)
    def award(self, index, points, key):
        key = f"award:{key}"
        _entry, created = points_award(
            member=self.members[index],
            points=points,
            reason=LedgerReason.SURVEY_COMPLETED,
            source="test",
            idempotency_key=key,
        )
        # A key awards once, whoever it names the second time.
        assert created == (key not in self.awards)
        if created:
            self.awards[key] = (index, points)
            self.balance[index] += points

    @rule(
        index=members_,
        which=st.sampled_from([1, 3, 2, 0]),
        request_key=st.none() | st.sampled_from(["f1", "f2"]),
    )
    def request(self, index, which, request_key):
        reward = self.rewards[which]
        cost = self._cost(index, reward)
        counted = sum(
            1
            for state in self.redemptions.values()
            if state["member"] == index
            and state["reward"] == which
            and state["status"] not in RETURNED
        )
        if request_key in self.request_keys:
            owner, pk = self.request_keys[request_key]
            expected = pk if owner == index else "request_key_taken"
        elif reward.per_member_limit is not None and counted >= reward.per_member_limit:
            expected = "limit_reached"
        elif self.balance[index] < cost:
            expected = "insufficient_points"
        elif (reward.kind == RewardKind.VOUCHER and self.free_codes == 0) or self.stock[
            reward.pk
        ] == 0:
            expected = "out_of_stock"
        else:
            expected = "new"
        try:
            redemption = redemption_request(
                member=self.members[index],
                reward=reward,
                request_key=request_key,
                shipping_address="1 Main St",
            )
        except RedemptionRefused as refused:
            assert refused.code == expected
            return
        if expected != "new":
            assert redemption.pk == expected  # the same form again: the same redemption
            return
        assert redemption.pk not in self.redemptions and redemption.points == cost
        self.balance[index] -= cost
        if reward.kind == RewardKind.VOUCHER:
            self.free_codes -= 1
        elif self.stock[reward.pk] is not None:
            self.stock[reward.pk] -= 1
        status = RedemptionStatus.REQUESTED
        if reward.auto_approve:
            status = RedemptionStatus.APPROVED
        self.redemptions[redemption.pk] = {
            "member": index,
            "reward": which,
            "points": cost,
            "status": status,
        }
        if request_key:
            self.request_keys[request_key] = (index, redemption.pk)

    @precondition(lambda self: self.redemptions)
    @rule(pick=picks)
    def approve(self, pick):
        pk, state = self._pick(pick)
        redemption = Redemption.objects.get(pk=pk)
        if state["status"] != RedemptionStatus.REQUESTED:
            with pytest.raises(RedemptionRefused):
                redemption_approve(redemption=redemption, actor=self.staff)
            return
        redemption_approve(redemption=redemption, actor=self.staff)
        voucher = self.rewards[state["reward"]].kind == RewardKind.VOUCHER
        state["status"] = RedemptionStatus.FULFILLED if voucher else RedemptionStatus.APPROVED

    @precondition(lambda self: self.redemptions)
    @rule(pick=picks)
    def fulfil(self, pick):
        pk, state = self._pick(pick)
        redemption = Redemption.objects.get(pk=pk)
        if state["status"] != RedemptionStatus.APPROVED:
            with pytest.raises(RedemptionRefused):
                redemption_fulfil(redemption=redemption, actor=self.staff)
            return
        redemption_fulfil(redemption=redemption, actor=self.staff, tracking_note="sent")
        state["status"] = RedemptionStatus.FULFILLED

    @precondition(lambda self: self.redemptions)
    @rule(pick=picks)
    def reject(self, pick):
        pk, state = self._pick(pick)
        redemption = Redemption.objects.get(pk=pk)
        if state["status"] not in OPEN:
            with pytest.raises(RedemptionRefused):
                redemption_reject(redemption=redemption, actor=self.staff, reason="No")
            return
        redemption_reject(redemption=redemption, actor=self.staff, reason="No")
        self._give_back(state)
        state["status"] = RedemptionStatus.REJECTED

    @precondition(lambda self: self.redemptions)
    @rule(pick=picks, by_staff=st.booleans())
    def cancel(self, pick, by_staff):
        pk, state = self._pick(pick)
        redemption = Redemption.objects.get(pk=pk)
        actor = self.staff if by_staff else None
        allowed = OPEN if by_staff else (RedemptionStatus.REQUESTED,)
        if state["status"] not in allowed:
            with pytest.raises(RedemptionRefused):
                redemption_cancel(redemption=redemption, actor=actor)
            return
        redemption_cancel(redemption=redemption, actor=actor)
        self._give_back(state)
        state["status"] = RedemptionStatus.CANCELLED

    @rule(
        index=members_,
        points=st.integers(-300, 300).filter(bool),
        key=keys,
    )
    def adjust(self, index, points, key):
        key = f"adjust:{key}"
        try:
            _entry, created = points_adjust(
                member=self.members[index],
                points=points,
                note="Because",
                actor=self.staff,
                idempotency_key=key,
            )
        except InsufficientPoints:
            assert key not in self.adjustments and -points > self.balance[index]
            return
        assert created == (key not in self.adjustments)
        if created:
            assert self.balance[index] + points >= 0
            self.adjustments.add(key)
            self.balance[index] += points

    @rule(index=members_)
    def be_active(self, index):
        # Active after the last expiry run: that inactivity is over, a new one begins.
        Member.objects.filter(pk=self.members[index].pk).update(
            last_active_at=self.clock + timedelta(days=1)
        )

    @rule()
    def expire(self):
        # The clock jumps past the policy's months: everyone's last activity is too old.
        self.clock += timedelta(days=400)
        before = list(self.balance)
        written = points_expire(now=self.clock)
        expected = 0
        for index in range(MEMBERS):
            # Whatever a member away holds expires, points that came back since included.
            if before[index] > 0:
                expected += 1
                self.balance[index] = 0
        assert written == expected
        # Running it again at once expires nothing more.
        assert points_expire(now=self.clock) == 0

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def the_ledger_agrees_with_the_model(self):
        # One read of every entry, checked in Python: cheap enough to run after each step.
        entries = list(
            LedgerEntry.objects.order_by("pk").values_list(
                "member_id", "points", "reason", "source", "idempotency_key"
            )
        )
        # Balances: the sum of the entries, as the model says, never below zero, and no
        # point in a member's history where it was.
        for index, member in enumerate(self.members):
            running = 0
            for member_id, points, *_rest in entries:
                if member_id == member.pk:
                    running += points
                    assert running >= 0, (index, entries)
            assert member_balance(member=member) == running == self.balance[index] >= 0
        # Keys: each once; an award's for the member and points it was first given.
        by_key = Counter(key for *_rest, key in entries)
        assert max(by_key.values(), default=1) == 1
        awarded = {key: (member_id, points) for member_id, points, _r, _s, key in entries}
        for key, (index, points) in self.awards.items():
            assert awarded[key] == (self.members[index].pk, points)
        # Redemptions: one hold each; one return exactly when rejected or cancelled.
        moves = defaultdict(list)
        for _member, points, reason, source, _key in entries:
            if source.startswith("rewards.redemption:"):
                moves[int(source.split(":")[1]), reason].append(points)
        for pk, state in self.redemptions.items():
            assert moves[pk, LedgerReason.REDEMPTION_HOLD] == [-state["points"]]
            returned = [state["points"]] if state["status"] in RETURNED else []
            assert moves[pk, LedgerReason.REDEMPTION_RETURN] == returned
        statuses = dict(Redemption.objects.values_list("pk", "status"))
        assert statuses == {pk: state["status"] for pk, state in self.redemptions.items()}

    @invariant()
    def stock_and_codes_match_and_never_go_below_zero(self):
        stock = dict(Reward.objects.filter(pk__in=self.stock).values_list("pk", "stock"))
        assert stock == self.stock
        assert all(left is None or left >= 0 for left in stock.values())
        codes = VoucherCode.objects.filter(reward=self.rewards[1])
        assert codes.filter(redemption__isnull=True).count() == self.free_codes
        taken = [pk for pk in codes.values_list("redemption_id", flat=True) if pk]
        assert len(taken) == len(set(taken))


LedgerMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.django_db
def test_any_sequence_keeps_the_ledger_whole():
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)
