from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    ANALYST = "analyst", _("Analyst")
    AGENT = "agent", _("Agent")


class JoinMode(models.TextChoices):
    OPEN = "open", pgettext_lazy("join mode", "Open")
    INVITE_ONLY = "invite_only", _("Invite only")


class MemberStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Lapsed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    ERASED = "erased", _("Erased")


class ConsentPurpose(models.TextChoices):
    COMMUNITY_TERMS = "community_terms", _("Community terms and privacy policy")
    CONTACT_FOLLOWUP = "contact_followup", _("Contact about my answers")
    MARKETING = "marketing", _("Marketing")


class ConsentChannel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    KIOSK = "kiosk", _("Kiosk")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    STAFF = "staff", _("Staff")
