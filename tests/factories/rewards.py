import factory
from django.utils import timezone

from rewards.choices import BadgeKind, ExpiryNoticeKind, LedgerReason, RedemptionStatus
from rewards.models import (
    ExpiryNotice,
    LedgerEntry,
    MemberBadge,
    MemberStanding,
    Redemption,
    Reward,
    RewardsPolicy,
    Tier,
    VoucherCode,
    VoucherUpload,
)
from tests.factories.communities import CommunityFactory, MemberFactory, OrganisationFactory


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LedgerEntry

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    points = 10
    reason = LedgerReason.ADJUSTMENT
    idempotency_key = factory.Sequence(lambda n: f"test-entry-{n}")


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    organisation = factory.SubFactory(OrganisationFactory)
    community = factory.SubFactory(
        CommunityFactory, organisation=factory.SelfAttribute("..organisation")
    )
    name = factory.Sequence(lambda n: f"Reward {n}")
    cost = 100
    stock = 10


class RedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Redemption

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    reward = factory.SubFactory(
        RewardFactory,
        organisation=factory.SelfAttribute("..organisation"),
        community=factory.SelfAttribute("..member.community"),
    )
    points = factory.SelfAttribute("reward.cost")
    status = RedemptionStatus.REQUESTED


class VoucherUploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VoucherUpload

    reward = factory.SubFactory(RewardFactory, kind="voucher", stock=None)
    organisation = factory.SelfAttribute("reward.organisation")
    filename = "codes.csv"


class VoucherCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VoucherCode

    reward = factory.SubFactory(RewardFactory, kind="voucher", stock=None)
    organisation = factory.SelfAttribute("reward.organisation")
    code = factory.Sequence(lambda n: f"CODE-{n:06d}")


class RewardsPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RewardsPolicy
        django_get_or_create = ("community",)

    community = factory.SubFactory(CommunityFactory)
    organisation = factory.SelfAttribute("community.organisation")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    community = factory.SubFactory(CommunityFactory)
    organisation = factory.SelfAttribute("community.organisation")
    names = factory.Sequence(lambda n: {"en": f"Tier {n}"})
    threshold = factory.Sequence(lambda n: 100 * (n + 1))


class MemberStandingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberStanding

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    computed_at = factory.LazyFunction(timezone.now)


class MemberBadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberBadge

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    kind = BadgeKind.FIRST_SURVEY
    awarded_at = factory.LazyFunction(timezone.now)


class ExpiryNoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpiryNotice

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    kind = ExpiryNoticeKind.WARNING
    expires_on = factory.LazyFunction(lambda: timezone.now().date())
    points = 100
