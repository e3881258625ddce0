"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py: the webhook
staff pages and management API.

Owners and admins only, reading included: an endpoint's URL may carry a receiver's token
and the log shows what receivers answered, so analysts and agents get 403 everywhere.

ACCESS: staff page route name -> roles; OBJECT_FOR: route -> maker of the object its id
names; POST_ONLY: routes visited with POST; API_ACCESS: api route -> (roles, id maker or
None); API_WRITE_ACCESS: (method, api route) -> (roles, id maker or None, a valid body).
"""

from communities.choices import Role
from communities.webhooks.choices import DeliveryStatus
from tests.factories.communities import WebhookDeliveryFactory, WebhookEndpointFactory

MANAGE = frozenset({Role.OWNER, Role.ADMIN})


def _endpoint(org):
    return WebhookEndpointFactory(organisation=org)


def _delivery(org):
    return WebhookDeliveryFactory(endpoint=_endpoint(org), status=DeliveryStatus.FAILED)


ACCESS: dict = {
    "webhook_list": MANAGE,
    "webhook_create": MANAGE,
    "webhook_detail": MANAGE,
    "webhook_edit": MANAGE,
    "webhook_secret": MANAGE,
    "webhook_delete": MANAGE,
    "webhook_test": MANAGE,
    "webhook_resend": MANAGE,
}
OBJECT_FOR: dict = {
    "webhook_detail": _endpoint,
    "webhook_edit": _endpoint,
    "webhook_secret": _endpoint,
    "webhook_delete": _endpoint,
    "webhook_test": _endpoint,
    "webhook_resend": _delivery,
}
POST_ONLY: set = {"webhook_test", "webhook_resend"}
API_ACCESS: dict = {
    "api:webhook_endpoint_list": (MANAGE, None),
    "api:webhook_endpoint_detail": (MANAGE, _endpoint),
    "api:webhook_delivery_list": (MANAGE, _endpoint),
}
API_WRITE_ACCESS: dict = {
    ("post", "api:webhook_endpoint_list"): (
        MANAGE,
        None,
        {"url": "https://93.184.215.14/hooks/chorus", "events": ["case.opened"]},
    ),
    ("patch", "api:webhook_endpoint_detail"): (MANAGE, _endpoint, {"description": "Helpdesk"}),
    ("post", "api:webhook_endpoint_secret"): (MANAGE, _endpoint, {}),
    ("post", "api:webhook_endpoint_test"): (MANAGE, _endpoint, {}),
    ("post", "api:webhook_delivery_resend"): (MANAGE, _delivery, {}),
}
