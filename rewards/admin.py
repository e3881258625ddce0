from django.contrib import admin

from rewards.models import LedgerEntry, Redemption, Reward


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("member", "points", "reason", "source", "created_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.register([Reward, Redemption])
