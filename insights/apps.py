from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        # The receivers that keep the roll-ups valid when a folded response changes.
        import insights.rollups.dirty  # noqa: F401
