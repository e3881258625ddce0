"""Member- and staff-facing flows that reach into other apps.

SPEC places the member portal, invitations and data export/erasure in communities,
but their data lives in every app (responses, points, cases) and their emails go
through the feedback outbox. `services.py` and `selectors.py` stay free of sibling
imports, as STYLE asks; the few flows that must compose the apps live here, and only
views, tasks and commands import this module.
"""
