from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "communities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from communities.member_data import member_data_register
        from communities.member_part import PART

        member_data_register(PART)
