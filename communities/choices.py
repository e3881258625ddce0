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
    # Joined through the public page, double opt-in email not yet confirmed.
    PENDING = "pending", _("Awaiting confirmation")
    INVITED = "invited", _("Invited")
    # The lifecycle task moves members between these four from their activity.
    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Lapsed")
    CHURNED = "churned", _("Churned")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    ERASED = "erased", _("Erased")


LIFECYCLE_STATUSES = (
    MemberStatus.NEW,
    MemberStatus.ACTIVE,
    MemberStatus.LAPSED,
    MemberStatus.CHURNED,
)


class AttributeKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Single choice")


class ImportStatus(models.TextChoices):
    # A worker reads the file row by row into the report; nothing is written yet.
    CHECKING = "checking", _("Checking the file")
    PREVIEWED = "previewed", _("Checked, waiting to be confirmed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Nothing imported")


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
