from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Not sent: the address was on the organisation's suppression list when its turn came.
    SUPPRESSED = "suppressed", _("Suppressed")
    # Sent, then reported back by the receiving side (inbound mail: a DSN or an ARF report).
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Complained")
