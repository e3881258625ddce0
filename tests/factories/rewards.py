import factory

from rewards.choices import LedgerReason, RedemptionStatus
from rewards.models import LedgerEntry, Redemption, Reward
from tests.factories.communities import MemberFactory, OrganisationFactory


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
    name = factory.Sequence(lambda n: f"Reward {n}")
    cost = 100
    stock = 10


class RedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Redemption

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    reward = factory.SubFactory(RewardFactory, organisation=factory.SelfAttribute("..organisation"))
    points = factory.SelfAttribute("reward.cost")
    status = RedemptionStatus.REQUESTED
