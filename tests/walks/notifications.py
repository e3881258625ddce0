"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py (see
tests/walks/feedback.py for the shape of each table).

Everyone with a role chooses their own notifications; owners and admins set the store
alerts and the weekly report. Removing an alert is a POST-only button."""

from communities.choices import Role
from tests.factories.communities import LocationFactory
from tests.factories.insights_notifications import ThresholdAlertFactory

EVERYONE = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST, Role.AGENT})
MANAGE = frozenset({Role.OWNER, Role.ADMIN})


def _alert(org):
    return ThresholdAlertFactory(location=LocationFactory(organisation=org))


ACCESS: dict = {
    "notification_preferences": EVERYONE,
    "notification_alert_list": MANAGE,
    "notification_alert_edit": MANAGE,
    "notification_alert_delete": MANAGE,
    "notification_report": MANAGE,
}
OBJECT_FOR: dict = {
    "notification_alert_edit": _alert,
    "notification_alert_delete": _alert,
}
POST_ONLY: set = {"notification_alert_delete"}
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
