from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from communities.member_data import member_data_register
        from communities.services.audit import audit_register
        from feedback.member_part import PART
        from feedback.rules import signals_connect
        from feedback.services import response_prepare, response_ride, response_stored
        from feedback.services.cases import AUDIT_ACTIONS, AUDIT_TARGET_LABELS, AUDIT_TARGETS
        from feedback.services.sla import sla_signals_connect
        from surveys.reactions import response_reaction_register

        member_data_register(PART)
        audit_register(
            actions=AUDIT_ACTIONS, targets=AUDIT_TARGETS, target_labels=AUDIT_TARGET_LABELS
        )
        signals_connect()
        sla_signals_connect()
        # Every stored response goes through the follow-up rules (see surveys.reactions).
        response_reaction_register(response_stored, ride=response_ride, prepare=response_prepare)
