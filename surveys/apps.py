from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from communities.member_data import member_data_register
        from surveys.exports.services import export_audit_register
        from surveys.member_part import PART
        from surveys.services.authoring import survey_audit_register
        from surveys.signals import signals_connect

        member_data_register(PART)
        signals_connect()
        survey_audit_register()
        export_audit_register()
