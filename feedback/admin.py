from django.contrib import admin

from feedback.models import Case, FollowUpRule, OutboundEmail


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("pk", "organisation", "status", "priority", "reason", "created_at")
    list_filter = ("status", "priority")


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("to_email", "template", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "template")


admin.site.register(FollowUpRule)
