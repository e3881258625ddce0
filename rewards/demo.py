"""The demo's rewards: a catalogue, earning rules, tiers and a year of points history with
redemptions in every status, written through rewards.services so the holds, returns,
stock and voucher codes are the real ones.

Idempotent like the rest of the demo seed: every award has a key that names it, every
redemption a request key, so running it again adds only what new members bring.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from communities.choices import Role
from communities.models import Community, Member, Organisation, StaffRole, User
from communities.services import MEMBER_CURRENT_STATUSES
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
from rewards.models import LedgerEntry, Redemption, Reward, RewardsPolicy, Tier, VoucherCode
from rewards.services import (
    RedemptionRefused,
    points_award,
    redemption_approve,
    redemption_cancel,
    redemption_fulfil,
    redemption_reject,
    redemption_request,
)

SOURCE = "rewards.demo"
VOUCHER_CODES = 20

CATALOGUE: list[dict[str, Any]] = [
    {
        "key": "voucher",
        "kind": RewardKind.VOUCHER,
        "cost": 150,
        "stock": None,
        "auto_approve": True,
        "names": {
            "en": ("Free coffee voucher", "Any drink, any size, in any of our shops."),
            "th": ("บัตรกาแฟฟรี", "เครื่องดื่มใดก็ได้ ทุกขนาด ทุกสาขา"),
            "he": ("שובר לקפה חינם", "כל משקה, כל גודל, בכל אחד מהסניפים שלנו."),
            "ja": ("コーヒー無料券", "全店舗で、どのドリンクでもどのサイズでも。"),
        },
    },
    {
        "key": "tote",
        "kind": RewardKind.PHYSICAL,
        "cost": 400,
        "stock": 5,
        "auto_approve": False,
        "names": {
            "en": ("Demo Coffee tote bag", "Organic cotton, posted to your door."),
            "th": ("กระเป๋าผ้า Demo Coffee", "ผ้าฝ้ายออร์แกนิก ส่งถึงบ้านคุณ"),
            "he": ("תיק בד של Demo Coffee", "כותנה אורגנית, נשלח עד הבית."),
            "ja": ("Demo Coffee トートバッグ", "オーガニックコットン、ご自宅へお届けします。"),
        },
    },
    {
        "key": "donation",
        "kind": RewardKind.DONATION,
        "cost": 100,
        "stock": None,
        "auto_approve": True,
        "names": {
            "en": ("Plant a coffee tree", "We plant a tree with our growers in your name."),
            "th": ("ปลูกต้นกาแฟ", "เราปลูกต้นไม้กับเกษตรกรในนามของคุณ"),
            "he": ("נטיעת עץ קפה", "אנחנו נוטעים עץ עם המגדלים שלנו בשמך."),
            "ja": ("コーヒーの木を植える", "あなたの名前で生産者と一緒に木を植えます。"),
        },
    },
    {
        "key": "perk",
        "kind": RewardKind.PERK,
        "cost": 250,
        "stock": None,
        "auto_approve": False,
        "names": {
            "en": ("Barista class", "An hour behind the counter with our head barista."),
            "th": ("คลาสบาริสต้า", "หนึ่งชั่วโมงหลังเคาน์เตอร์กับหัวหน้าบาริสต้า"),
            "he": ("סדנת בריסטה", "שעה מאחורי הדלפק עם הבריסטה הראשי שלנו."),
            "ja": ("バリスタ教室", "ヘッドバリスタと一緒にカウンターで1時間。"),
        },
    },
]

TIERS = [
    (0, 0, {"en": "Bronze", "th": "บรอนซ์", "he": "ארד", "ja": "ブロンズ"}),
    (500, 5, {"en": "Silver", "th": "ซิลเวอร์", "he": "כסף", "ja": "シルバー"}),
    (1500, 10, {"en": "Gold", "th": "โกลด์", "he": "זהב", "ja": "ゴールド"}),
]

# The redemptions the first members make, and what staff (or they) do next: every status
# the approval queue and the overview show. None leaves it as the request made it (a
# voucher's code is shown at once; a manual reward waits for approval).
REDEMPTIONS = [
    ("voucher", None),
    ("tote", None),
    ("tote", "approve"),
    ("tote", "fulfil"),
    ("tote", "reject"),
    ("perk", "cancel"),
    ("perk", "approve"),
    ("donation", "fulfil"),
    ("voucher", None),
    ("perk", None),
]
REDEEMING_MEMBERS = len(REDEMPTIONS)


@dataclass
class _Event:
    at: datetime
    kind: str  # "award", "expire" or "redeem"
    key: str
    points: int = 0
    reason: str = ""
    title: str = ""
    reward: str = ""
    follow_up: str | None = None


def rewards_demo_seed(
    *,
    organisation: Organisation,
    community: Community,
    members: list[Member],
    now: datetime,
    actor: User | None = None,
) -> dict[str, int]:
    """The demo community's catalogue, policy, tiers and members' points history; returns
    how many rewards, entries and redemptions the demo holds afterwards."""
    actor = actor or _owner(organisation)
    with transaction.atomic():
        rewards = _catalogue(organisation=organisation, community=community)
        _policy_and_tiers(organisation=organisation, community=community)
    eligible = [m for m in members if m.status in MEMBER_CURRENT_STATUSES and m.erased_at is None]
    for index, member in enumerate(eligible):
        for event in _plan(member=member, index=index, now=now):
            if event.kind == "award":
                points_award(
                    member=member,
                    points=event.points,
                    reason=event.reason,
                    source=SOURCE,
                    idempotency_key=event.key,
                    at=event.at,
                    detail={"title": event.title} if event.title else None,
                )
            elif event.kind == "expire":
                _expire(member=member, event=event)
            else:
                _redeem(member=member, event=event, reward=rewards[event.reward], actor=actor)
    return {
        "rewards": len(rewards),
        "entries": LedgerEntry.objects.filter(member__community=community).count(),
        "redemptions": Redemption.objects.filter(member__community=community).count(),
    }


def _owner(organisation: Organisation) -> User | None:
    role = (
        StaffRole.objects.filter(organisation=organisation, role=Role.OWNER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return role.user if role else None


def _catalogue(*, organisation: Organisation, community: Community) -> dict[str, Reward]:
    rewards = {}
    for spec in CATALOGUE:
        name, description = spec["names"]["en"]
        reward, _ = Reward.objects.get_or_create(
            organisation=organisation,
            community=community,
            name=name,
            defaults={
                "kind": spec["kind"],
                "description": description,
                "translations": {
                    lang: {"name": n, "description": d}
                    for lang, (n, d) in spec["names"].items()
                    if lang != "en"
                },
                "cost": spec["cost"],
                "stock": spec["stock"],
                "auto_approve": spec["auto_approve"],
            },
        )
        rewards[spec["key"]] = reward
    voucher = rewards["voucher"]
    for n in range(1, VOUCHER_CODES + 1):
        VoucherCode.objects.get_or_create(
            reward=voucher,
            code=f"DEMO-COFFEE-{n:04d}",
            defaults={"organisation": organisation},
        )
    return rewards


def _policy_and_tiers(*, organisation: Organisation, community: Community) -> None:
    RewardsPolicy.objects.update_or_create(
        community=community,
        defaults={
            "organisation": organisation,
            "join_points": 50,
            "profile_points": 30,
            "referral_points": 100,
            "poll_points": 5,
            "expiry_months": 12,
        },
    )
    for threshold, discount, names in TIERS:
        Tier.objects.get_or_create(
            community=community,
            threshold=threshold,
            defaults={"organisation": organisation, "names": names, "discount_percent": discount},
        )


def _plan(*, member: Member, index: int, now: datetime) -> list[_Event]:
    """A believable year for one member, in date order; the same every run for the same
    member (seeded by their id) so the keys repeat and nothing is awarded twice."""
    rng = random.Random(member.pk)
    joined = min(member.joined_at or now - timedelta(days=300), now - timedelta(days=2))
    span = max((now - joined).total_seconds(), 86400)

    def some_time(start: datetime = joined, seconds: float = span) -> datetime:
        return start + timedelta(seconds=rng.uniform(0, seconds))

    key = f"demo:{member.pk}"
    events = [_Event(joined, "award", f"{key}:joined", 50, LedgerReason.JOINED)]
    # Only the first members redeem (each step emails the member through the outbox); they
    # earned enough for it before the day they asked.
    redeem_at = None
    surveys = rng.randint(2, 6)
    if index < REDEEMING_MEMBERS:
        redeem_at = max(now - timedelta(days=rng.uniform(1, 40)), joined + timedelta(hours=1))
        surveys = 9
    earned_by = redeem_at or now

    def earned_at() -> datetime:
        return some_time(joined, max((earned_by - joined).total_seconds() - 60, 1))

    if member.attributes:
        events.append(
            _Event(
                joined + timedelta(seconds=30),
                "award",
                f"{key}:profile",
                30,
                LedgerReason.PROFILE_COMPLETED,
            )
        )
    for n in range(surveys):
        events.append(
            _Event(
                earned_at(),
                "award",
                f"{key}:survey:{n}",
                50,
                LedgerReason.SURVEY_COMPLETED,
                title="Monthly coffee check-in",
            )
        )
    if rng.random() < 0.5:
        events.append(
            _Event(some_time(), "award", f"{key}:poll", 5, LedgerReason.POLL_VOTED, title="Poll")
        )
    if index % 6 == 0:
        events.append(_Event(some_time(), "award", f"{key}:referral", 100, LedgerReason.REFERRAL))
    if index % 5 == 1 and span > 200 * 86400:
        # Points left unused for months: the year's expiry history.
        at = some_time(joined + timedelta(days=120), span - 150 * 86400)
        events.append(_Event(at, "expire", f"{key}:expired", 40, LedgerReason.EXPIRED))
    if redeem_at is not None:
        reward, follow_up = REDEMPTIONS[index]
        events.append(
            _Event(
                redeem_at,
                "redeem",
                f"demo-redeem-{member.pk}",
                reward=reward,
                follow_up=follow_up,
            )
        )
    return sorted(events, key=lambda e: e.at)


def _balance_at(member: Member, at: datetime) -> int:
    entries = LedgerEntry.objects.filter(member=member, created_at__lte=at)
    return sum(entries.values_list("points", flat=True))


def _expire(*, member: Member, event: _Event) -> None:
    # No service writes a back-dated expiry (the daily task expires as of today), so the
    # demo writes its entry itself, never more than the member held on that day.
    if LedgerEntry.objects.filter(idempotency_key=event.key).exists():
        return
    points = min(event.points, _balance_at(member, event.at))
    if points > 0:
        LedgerEntry.objects.create(
            organisation_id=member.organisation_id,
            member=member,
            points=-points,
            reason=LedgerReason.EXPIRED,
            source=SOURCE,
            idempotency_key=event.key,
            created_at=event.at,
        )


def _redeem(*, member: Member, event: _Event, reward: Reward, actor: User | None) -> None:
    follow_up = event.follow_up
    if not Redemption.objects.filter(request_key=event.key).exists() and (
        _balance_at(member, event.at) < reward.cost
    ):
        return  # they had not earned enough by then: no history that dips below zero
    address = "12 Sukhumvit Soi 4\nBangkok 10110" if reward.kind == RewardKind.PHYSICAL else ""
    try:
        redemption = redemption_request(
            member=member,
            reward=reward,
            request_key=event.key,
            shipping_address=address,
            now=event.at,
        )
    except RedemptionRefused:
        return  # not enough points, or the totes ran out: the demo simply has fewer
    if redemption.status != RedemptionStatus.REQUESTED and follow_up != "fulfil":
        return
    later = event.at + timedelta(hours=20)
    try:
        if follow_up == "approve" and actor is not None:
            redemption_approve(redemption=redemption, actor=actor, now=later)
        elif follow_up == "fulfil" and actor is not None:
            if redemption.status == RedemptionStatus.REQUESTED:
                redemption = redemption_approve(redemption=redemption, actor=actor, now=later)
            if redemption.status == RedemptionStatus.APPROVED:
                redemption_fulfil(
                    redemption=redemption,
                    actor=actor,
                    tracking_note="Thailand Post EH123456789TH",
                    now=later + timedelta(days=1),
                )
        elif follow_up == "reject" and actor is not None:
            redemption_reject(
                redemption=redemption,
                actor=actor,
                reason="This colour is sold out; your points are back.",
                now=later,
            )
        elif follow_up == "cancel":
            redemption_cancel(redemption=redemption, now=later)
    except RedemptionRefused:
        return  # already decided on an earlier run
