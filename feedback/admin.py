from django.contrib import admin

from feedback.models import Case, FollowUpRule


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("pk", "organisation", "status", "priority", "reason", "created_at")
    list_filter = ("status", "priority")


admin.site.register(FollowUpRule)
