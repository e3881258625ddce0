from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from communities.member_data import member_data_register
        from rewards.member_part import PART

        member_data_register(PART)

        # communities announces a member's confirmation and completed profile; what they
        # earn is rewards.services.earning's story, the receivers one call each.
        from communities.signals import member_confirmed, member_profile_completed
        from rewards.services import earning

        member_confirmed.connect(
            earning.member_confirmed_receive, dispatch_uid="rewards.earning.confirmed"
        )
        member_profile_completed.connect(
            earning.member_profile_completed_receive, dispatch_uid="rewards.earning.profile"
        )
        earning.policy_audit_register()

        from rewards.services.catalogue import catalogue_audit_register

        catalogue_audit_register()

        from communities.services import audit_register
        from rewards.views import staff_redemptions

        audit_register(
            actions=staff_redemptions.AUDIT_ACTIONS,
            targets=staff_redemptions.AUDIT_TARGETS,
            target_labels=staff_redemptions.AUDIT_TARGET_LABELS,
        )
