from django.contrib import admin

from surveys.models import (
    Answer,
    Channel,
    Choice,
    Participation,
    Question,
    Response,
    Survey,
    SurveyInvitation,
)


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organisation", "kind", "status", "anonymity", "points")
    list_filter = ("status", "kind", "anonymity", "organisation")
    inlines = [QuestionInline]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "survey", "position", "type", "required")
    inlines = [ChoiceInline]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("pk", "survey", "submitted_at", "language", "is_anonymous")
    list_filter = ("is_anonymous", "language")
    date_hierarchy = "submitted_at"
    inlines = [AnswerInline]


admin.site.register([Channel, SurveyInvitation, Participation])
