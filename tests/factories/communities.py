import hashlib
import secrets
from datetime import timedelta

import factory
from django.utils import timezone

from communities.choices import (
    AttributeKind,
    ConsentChannel,
    ConsentPurpose,
    ImportStatus,
    MemberStatus,
    Role,
)
from communities.models import (
    ApiToken,
    AttributeDefinition,
    AuditEntry,
    Community,
    ConsentRecord,
    EmailSuppression,
    IdempotencyRecord,
    LifecycleSnapshot,
    LinkToken,
    Location,
    Member,
    MemberImport,
    Organisation,
    Segment,
    StaffInvitation,
    StaffRole,
    User,
    UserSession,
)
from communities.models.organisations import API_SCOPES
from communities.outbox.models import OutboundEmail
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """Users are verified by default, as allauth requires for login."""
        if create and extracted is not False:
            from allauth.account.models import EmailAddress

            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def _signed_in_data(session) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from config.sessions import SessionStore

    return SessionStore().encode(
        {
            SESSION_KEY: str(session.user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: session.user.get_session_auth_hash(),
        }
    )


class UserSessionFactory(factory.django.DjangoModelFactory):
    """A signed-in session of `user`, stored as Django's login() stores one."""

    class Meta:
        model = UserSession

    session_key = factory.LazyFunction(lambda: secrets.token_hex(16))
    user = factory.SubFactory(UserFactory)
    session_data = factory.LazyAttribute(_signed_in_data)
    expire_date = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class StaffRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffRole

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.ADMIN


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Community {n}")
    slug = factory.Sequence(lambda n: f"community-{n}")
    consent_text = "I agree to the community terms."
    privacy_policy_text = "We use your answers to improve our service."


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    code = factory.Sequence(lambda n: f"store-{n}")


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEntry

    organisation = factory.SubFactory(OrganisationFactory)
    actor = factory.SubFactory(UserFactory)
    action = "organisation.settings"
    target_type = "organisation"
    target_id = factory.LazyAttribute(lambda o: str(o.organisation.pk))
    changes = factory.LazyFunction(lambda: {"min_group_size": [5, 7]})


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    community = factory.SubFactory(CommunityFactory)
    organisation = factory.SelfAttribute("community.organisation")
    email = factory.Sequence(lambda n: f"member{n}@example.com")
    name = factory.Faker("name")
    locale = "en"
    status = MemberStatus.ACTIVE
    joined_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)
    referral_code = factory.Sequence(lambda n: f"ref{n:09d}")


class ConsentRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    purpose = ConsentPurpose.COMMUNITY_TERMS
    policy_version = 1
    granted = True
    channel = ConsentChannel.WEB


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    community = factory.SubFactory(CommunityFactory)
    organisation = factory.SelfAttribute("community.organisation")
    name = factory.Sequence(lambda n: f"Segment {n}")
    filter = factory.LazyFunction(lambda: {"status": ["active"]})


class EmailSuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailSuppression

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"unsubscribed{n}@example.com")


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """Use communities.services.api_token_create for a usable key; this one has a random hash."""

    class Meta:
        model = ApiToken

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"integration {n}")
    prefix = factory.Sequence(lambda n: f"chr_{n:06d}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")
    scopes = factory.LazyFunction(lambda: sorted(API_SCOPES))


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    """A finished write remembered under its Idempotency-Key (status and body stored)."""

    class Meta:
        model = IdempotencyRecord

    organisation = factory.SubFactory(OrganisationFactory)
    credential = factory.Sequence(lambda n: f"token:{n}")
    key = factory.Sequence(lambda n: f"key-{n}")
    method = "POST"
    path = factory.LazyAttribute(lambda o: f"/api/v1/{o.organisation.slug}/communities/")
    fingerprint = "0" * 64
    status = 201
    body = factory.LazyFunction(lambda: {"id": 1})


class AttributeDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeDefinition

    community = factory.SubFactory(CommunityFactory)
    organisation = factory.SelfAttribute("community.organisation")
    key = factory.Sequence(lambda n: f"attribute_{n}")
    label = factory.LazyAttribute(lambda o: {"en": o.key.replace("_", " ").capitalize()})
    kind = AttributeKind.TEXT

    class Params:
        age_band = factory.Trait(
            key="age_band",
            label={"en": "Age band", "th": "ช่วงอายุ", "he": "קבוצת גיל", "ja": "年齢層"},
            kind=AttributeKind.CHOICE,
            options=[
                {"value": "18-24", "label": {"en": "18–24"}},
                {"value": "25-34", "label": {"en": "25–34"}},
                {"value": "35+", "label": {"en": "35 or over"}},
            ],
        )


class StaffInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffInvitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"colleague{n}@example.com")
    role = Role.ANALYST


class MemberImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberImport

    community = factory.SubFactory(CommunityFactory)
    organisation = factory.SelfAttribute("community.organisation")
    filename = "members.csv"
    content = "email,name\nann@example.com,Ann\n"
    status = ImportStatus.PREVIEWED
    total_rows = 1
    valid_rows = 1


class LifecycleSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LifecycleSnapshot

    community = factory.SubFactory(CommunityFactory)
    organisation = factory.SelfAttribute("community.organisation")
    day = factory.LazyFunction(lambda: timezone.localdate())
    counts = factory.LazyFunction(lambda: {"new": 1, "active": 2, "lapsed": 0, "churned": 0})


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    organisation = factory.SubFactory(OrganisationFactory)
    to_email = factory.Sequence(lambda n: f"recipient{n}@example.com")
    template = "followup"
    subject = "Hello"
    body_text = "Hello there"
    idempotency_key = factory.Sequence(lambda n: f"test-email-{n}")


class LinkTokenFactory(factory.django.DjangoModelFactory):
    """A stored confirmation link; `token` (not a field) is the secret its URL carries."""

    class Meta:
        model = LinkToken

    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    kind = "member_confirm"
    member = factory.SubFactory(MemberFactory, status=MemberStatus.PENDING)
    organisation = factory.SelfAttribute("member.organisation")
    email = factory.SelfAttribute("member.email")
    token_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.token.encode()).hexdigest())
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token = kwargs.pop("token")
        row = super()._create(model_class, *args, **kwargs)
        row.token = token
        return row

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        token = kwargs.pop("token")
        row = super()._build(model_class, *args, **kwargs)
        row.token = token
        return row


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint subscribed to every event (ping aside), active, with its secret."""

    class Meta:
        model = WebhookEndpoint

    organisation = factory.SubFactory(OrganisationFactory)
    url = factory.Sequence(lambda n: f"https://hooks.example.com/chorus/{n}")
    events = factory.LazyFunction(lambda: [e for e in WebhookEvent.values if e != "ping"])
    secret = factory.LazyFunction(lambda: f"whsec_{secrets.token_urlsafe(32)}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    organisation = factory.SelfAttribute("endpoint.organisation")
    event = WebhookEvent.RESPONSE_CREATED
    event_id = factory.Sequence(lambda n: f"response.created:{n}")
    payload = factory.LazyAttribute(
        lambda o: {
            "id": o.event_id,
            "type": str(o.event),
            "created": "2026-01-01T00:00:00Z",
            "organisation": o.organisation.slug,
            "data": {},
        }
    )


class WebhookAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    organisation = factory.SelfAttribute("delivery.organisation")
    status_code = 200
    duration_ms = 42
