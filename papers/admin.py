from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from papers import services
from papers.models import Author, Authorship, ImportJob, Paper, PossibleDuplicate, Topic
from papers.normalize import author_key, normalize_doi, parse_arxiv_id, title_key


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order"]
    list_editable = ["order"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


class AuthorAdminForm(forms.ModelForm):
    class Meta:
        model = Author
        fields = ["name", "is_organisation"]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        key = author_key(name)
        if not key:
            raise ValidationError("A name needs a letter or a digit.")
        same = Author.objects.filter(key=key).exclude(pk=self.instance.pk).first()
        if same is not None:
            raise ValidationError(
                f"Author #{same.pk} “{same.name}” already has this name (names are matched "
                "without case, accents or punctuation)."
            )
        return name


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    form = AuthorAdminForm
    list_display = ["name", "key", "is_organisation"]
    list_filter = ["is_organisation"]
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


class PaperAdminForm(forms.ModelForm):
    """Identifiers in the catalog's normal form, as the import stores them."""

    class Meta:
        model = Paper
        fields = ["doi", "arxiv_id"]  # (the admin adds the fieldsets' others)

    def clean_doi(self):
        value = (self.cleaned_data.get("doi") or "").strip()
        if not value:
            return None
        doi = normalize_doi(value)
        if doi is None:
            raise ValidationError("Not a DOI: give it as 10.1145/… or a https://doi.org/ link.")
        return doi

    def clean_arxiv_id(self):
        value = (self.cleaned_data.get("arxiv_id") or "").strip()
        if not value:
            return None
        parsed = parse_arxiv_id(value)
        if parsed is None:
            raise ValidationError(
                "Not an arXiv id: give it as 2205.14135, cs/0112017 or an arxiv.org link."
            )
        return parsed[0]


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    form = PaperAdminForm
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
    actions = ["merge_two", "flag_duplicates"]
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

    @admin.action(description="Merge the two selected papers…")
    def merge_two(self, request, queryset):
        pks = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(pks) != 2:
            self.message_user(request, "Select exactly two papers to merge.", messages.ERROR)
            return None
        return redirect("papers:merge", a=pks[0], b=pks[1])

    @admin.action(description="Look for possible duplicates of the selected papers")
    def flag_duplicates(self, request, queryset):
        count = services.flag_possible_duplicates(papers=queryset)
        self.message_user(request, f"{count} new possible duplicate pair(s) flagged.")

    def save_model(self, request, obj, form, change):
        obj.title_key = title_key(obj.title)
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
    search_fields = ["filename", "created_by__email"]
    # The items, preview, report and pasted text (megabytes for a big file) are neither
    # loaded nor shown here: the import's own page shows them, page by page of the CSV.
    exclude = ImportJob.DOCUMENTS
    readonly_fields = [
        "page",
        *(field.name for field in ImportJob._meta.fields if field.name not in ImportJob.DOCUMENTS),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*ImportJob.DOCUMENTS)

    def has_add_permission(self, request):
        return False

    @admin.display(description="Items and report")
    def page(self, obj):
        return format_html('<a href="{}">Open the import page</a>', obj.get_absolute_url())


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(admin.ModelAdmin):
    list_display = ["pair", "status", "reason", "created_at", "compare"]
    list_filter = ["status"]
    list_select_related = ["paper_a", "paper_b"]
    search_fields = ["paper_a__title", "paper_b__title"]
    readonly_fields = [field.name for field in PossibleDuplicate._meta.fields]
    actions = ["mark_not_duplicate"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Papers")
    def pair(self, obj):
        return format_html(
            "#{} {}<br>#{} {}",
            obj.paper_a_id,
            obj.paper_a.title,
            obj.paper_b_id,
            obj.paper_b.title,
        )

    @admin.display(description="")
    def compare(self, obj):
        url = reverse("papers:merge", kwargs={"a": obj.paper_a_id, "b": obj.paper_b_id})
        return format_html('<a href="{}">Compare and merge</a>', url)

    @admin.action(description="Mark as not a duplicate")
    def mark_not_duplicate(self, request, queryset):
        pairs = list(queryset.select_related("paper_a", "paper_b"))
        for pair in pairs:
            services.dismiss_duplicate(a=pair.paper_a, b=pair.paper_b, by=request.user)
        self.message_user(request, f"{len(pairs)} pair(s) recorded as not duplicates.")
