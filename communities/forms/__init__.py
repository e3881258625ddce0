"""Forms of the communities app, by who fills them in: members (member_pages), staff (staff),
and the custom-attribute fields both use (attributes).

Other apps put a service's errors on their forms with `service_errors_apply`, re-exported
here; within communities, import from the defining module.
"""

from communities.forms.attributes import service_errors_apply

__all__ = ["service_errors_apply"]
