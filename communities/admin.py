from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from communities.models import (
    AuditEntry,
    Community,
    ConsentRecord,
    Location,
    Member,
    Organisation,
    OutboundEmail,
    Segment,
    StaffRole,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "is_staff", "is_active")
    search_fields = ("email", "name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "locale")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("__str__", "community", "status", "joined_at")
    list_filter = ("status", "community")
    search_fields = ("email", "name")


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("member", "purpose", "granted", "policy_version", "recorded_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.register([Organisation, StaffRole, Community, Location, Segment])


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("to_email", "template", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "template")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, and only retention removes entries."""

    list_display = ("created_at", "organisation", "actor", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    list_select_related = ("organisation", "actor")
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
