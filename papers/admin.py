from django.contrib import admin

from papers.models import Author, Authorship, ImportJob, Paper, Topic
from papers.normalize import author_key, title_key


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order"]
    list_editable = ["order"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "key"]
    search_fields = ["name", "key"]
    readonly_fields = ["key"]

    def save_model(self, request, obj, form, change):
        obj.key = author_key(obj.name)
        super().save_model(request, obj, form, change)


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 0
    autocomplete_fields = ["author"]
    ordering = ["position"]


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "year",
        "venue",
        "arxiv_id",
        "doi",
        "source",
        "metadata_incomplete",
        "updated_at",
    ]
    list_filter = ["metadata_incomplete", "source", "entry_type", "topics", "year"]
    search_fields = ["title", "arxiv_id", "doi", "citation_key", "authors__name", "venue"]
    filter_horizontal = ["topics"]
    inlines = [AuthorshipInline]
    readonly_fields = ["title_key", "added_by", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["title", "abstract", "year", "venue", "entry_type", "more_authors"]}),
        (
            "Identifiers and links",
            {"fields": ["arxiv_id", "arxiv_version", "doi", "url", "pdf_url"]},
        ),
        (
            "arXiv details",
            {
                "classes": ["collapse"],
                "fields": [
                    "arxiv_primary_category",
                    "arxiv_comment",
                    "journal_ref",
                    "published_on",
                    "revised_on",
                ],
            },
        ),
        ("Classification", {"fields": ["topics", "tags"]}),
        ("BibTeX", {"fields": ["citation_key", "source_bibtex"]}),
        (
            "Record",
            {
                "fields": [
                    "source",
                    "metadata_incomplete",
                    "title_key",
                    "added_by",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    def save_model(self, request, obj, form, change):
        obj.title_key = title_key(obj.title)
        if obj.doi:
            obj.doi = obj.doi.strip().lower()
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "kind",
        "status",
        "total",
        "processed",
        "created_count",
        "updated_count",
        "duplicate_count",
        "failed_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["input_text", "filename", "created_by__email"]
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False
