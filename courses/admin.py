from django.contrib import admin

from courses.models import (
    Course,
    Invitation,
    Lecture,
    Membership,
    Reading,
    ReadingProgress,
    Review,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class LectureInline(admin.TabularInline):
    model = Lecture
    extra = 0
    fields = ["number", "date", "start_time", "title", "slides_url", "video_url", "review_deadline"]
    show_change_link = True


class ReadingInline(admin.TabularInline):
    model = Reading
    extra = 0
    autocomplete_fields = ["paper"]
    fields = ["paper", "required", "order", "section", "note"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "term", "institution", "is_public", "position"]
    list_filter = ["is_public", "term", "institution"]
    search_fields = ["code", "title", "term", "instructor_names"]
    prepopulated_fields = {"slug": ["code", "term"]}
    inlines = [LectureInline, MembershipInline]


@admin.register(Lecture)
class LectureAdmin(admin.ModelAdmin):
    list_display = ["course", "number", "date", "title"]
    list_filter = ["course"]
    search_fields = ["title", "description", "course__code"]
    list_select_related = ["course"]
    inlines = [ReadingInline]


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["paper", "lecture", "required", "order"]
    list_filter = ["required", "lecture__course"]
    search_fields = ["paper__title", "lecture__title"]
    list_select_related = ["paper", "lecture__course"]
    autocomplete_fields = ["paper", "lecture"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "role", "joined_at"]
    list_filter = ["role", "course"]
    search_fields = ["user__email", "course__code"]
    list_select_related = ["user", "course"]
    autocomplete_fields = ["user", "course"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "course", "role", "created_at", "accepted_at"]
    list_filter = ["role", "course"]
    search_fields = ["email"]


@admin.register(ReadingProgress)
class ReadingProgressAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "paper__title"]
    list_select_related = ["user", "paper"]
    raw_id_fields = ["user", "paper"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["paper", "author", "status", "overall_rating", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["author__email", "paper__title"]
    list_select_related = ["author", "paper"]
    raw_id_fields = ["author", "paper"]
    readonly_fields = ["version", "created_at", "updated_at"]
