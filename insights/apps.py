from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        # The receivers that keep the roll-ups valid when a folded response changes.
        import insights.rollups.dirty  # noqa: F401
        from insights.results_links import survey_results_links
        from insights.rollups.results import results_counts_rollups
        from surveys.selectors_results import register_results_links, register_results_reader

        # surveys may not import insights: its results page reads the roll-ups and links
        # its figures to the responses page through these hooks.
        register_results_reader(results_counts_rollups)
        register_results_links(survey_results_links)
