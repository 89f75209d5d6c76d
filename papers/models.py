from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Lower
from django.urls import reverse
from taggit.managers import TaggableManager


class Topic(models.Model):
    """One area of the MLSys taxonomy (the conference's call-for-papers topics)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("papers:topic", kwargs={"slug": self.slug})


class Author(models.Model):
    name = models.CharField(
        max_length=300, help_text="As displayed: given names, then family name."
    )
    key = models.CharField(
        max_length=300,
        help_text="Normalised name used to match the same person across imports.",
    )
    is_organisation = models.BooleanField(
        "organisation",
        default=False,
        help_text="A corporate author (e.g. a working group), written whole in BibTeX.",
    )

    class Meta:
        ordering = ["name"]
        # A constraint, not unique=True: on PostgreSQL the field would also get a
        # second (LIKE pattern) index that no query uses and every insert maintains.
        constraints = [models.UniqueConstraint(fields=["key"], name="author_key_unique")]

    def __str__(self):
        return self.name


class PaperQuerySet(models.QuerySet):
    def with_authors(self):
        """Prefetch authors in order, in one extra query for any number of papers."""
        return self.prefetch_related(
            Prefetch(
                "authorships",
                queryset=Authorship.objects.select_related("author").order_by("position"),
            )
        )

    def search(self, query: str):
        """Papers whose title, author, venue, arXiv id or DOI contains every word. Each
        word asks for its author with EXISTS, not a join: joins would multiply a paper's
        rows by its number of authors once per word (a many-author paper and four words
        took minutes)."""
        result = self
        for word in query.split()[:10]:
            by_author = Authorship.objects.filter(
                paper=OuterRef("pk"), author__name__icontains=word
            )
            result = result.filter(
                Q(title__icontains=word)
                | Exists(by_author)
                | Q(venue__icontains=word)
                | Q(arxiv_id__icontains=word)
                | Q(doi__icontains=word)
            )
        return result

    def assigned_in_course(self, course):
        """Papers any lecture of the course assigns (required or optional)."""
        return self.filter(readings__lecture__course=course).distinct()

    def assigned_in_lecture(self, lecture):
        return self.filter(readings__lecture=lecture).distinct()


class Paper(models.Model):
    class EntryType(models.TextChoices):
        ARTICLE = "article", "Journal article"
        INPROCEEDINGS = "inproceedings", "Conference paper"
        INCOLLECTION = "incollection", "Book chapter"
        BOOK = "book", "Book"
        PHDTHESIS = "phdthesis", "PhD thesis"
        TECHREPORT = "techreport", "Technical report"
        MISC = "misc", "Preprint or other"

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by hand"
        DEMO = "demo", "Demo data"
        ARXIV = "arxiv", "arXiv"
        DOI = "doi", "DOI"
        BIBTEX = "bibtex", "BibTeX file"

    title = models.CharField(max_length=1000)
    title_key = models.CharField(
        max_length=500,
        editable=False,
        help_text="Normalised title used to find possible duplicates.",
    )
    authors = models.ManyToManyField(Author, through="Authorship", related_name="papers")
    more_authors = models.BooleanField(
        default=False, help_text='The source lists the authors as incomplete ("and others").'
    )
    abstract = models.TextField(blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    venue = models.CharField(max_length=500, blank=True)
    entry_type = models.CharField(max_length=20, choices=EntryType.choices, default=EntryType.MISC)
    arxiv_id = models.CharField(
        "arXiv id",
        max_length=40,
        null=True,
        blank=True,
        help_text="Without version, e.g. 2205.14135 or cs/0112017.",
    )
    arxiv_version = models.PositiveSmallIntegerField(null=True, blank=True)
    arxiv_primary_category = models.CharField(max_length=40, blank=True)
    arxiv_comment = models.TextField(blank=True)
    journal_ref = models.CharField(max_length=500, blank=True)
    published_on = models.DateField(null=True, blank=True)
    revised_on = models.DateField(null=True, blank=True)
    doi = models.CharField("DOI", max_length=255, null=True, blank=True, help_text="Lower case.")
    url = models.URLField(max_length=1000, blank=True)
    pdf_url = models.URLField("PDF URL", max_length=1000, blank=True)
    citation_key = models.CharField(max_length=120, blank=True)
    source_bibtex = models.TextField(
        "reference BibTeX",
        blank=True,
        help_text="BibTeX as published or fetched, kept for reference; exports are "
        "generated from the record.",
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    metadata_incomplete = models.BooleanField(
        default=False,
        help_text="Only a title and a link are known; an admin should complete the record.",
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="papers")
    tags = TaggableManager(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "title"]
        # Indexes and unique constraints declared here rather than with db_index or
        # unique=True on the fields: on PostgreSQL those also create a LIKE pattern
        # index for each, which no query uses (searches use icontains) and every
        # insert of an import maintains.
        indexes = [models.Index(fields=["title_key"], name="paper_title_key_idx")]
        constraints = [
            models.UniqueConstraint(fields=["arxiv_id"], name="paper_arxiv_id_unique"),
            models.UniqueConstraint(fields=["doi"], name="paper_doi_unique"),
            models.UniqueConstraint(
                fields=["citation_key"],
                condition=~Q(citation_key=""),
                name="paper_citation_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(doi__isnull=True) | Q(doi=Lower("doi")),
                name="paper_doi_lowercase",
            ),
            models.CheckConstraint(
                condition=Q(arxiv_id__isnull=True) | ~Q(arxiv_id=""),
                name="paper_arxiv_id_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(doi__isnull=True) | ~Q(doi=""),
                name="paper_doi_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1800, year__lte=2200),
                name="paper_year_plausible",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.year})" if self.year else self.title

    def get_absolute_url(self):
        return reverse("papers:detail", kwargs={"pk": self.pk})

    @property
    def ordered_authors(self):
        """Authors in order; uses the prefetch of PaperQuerySet.with_authors()."""
        return [authorship.author for authorship in self.authorships.all()]

    @property
    def arxiv_abs_url(self):
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def arxiv_pdf_url(self):
        return f"https://arxiv.org/pdf/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def doi_url(self):
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def best_pdf_url(self):
        return self.pdf_url or self.arxiv_pdf_url


class Authorship(models.Model):
    # No index of their own: of the unique constraints below, one leads with the paper,
    # the other with the author (an import inserts tens of thousands of authorships: each
    # index is one more write per row).
    paper = models.ForeignKey(
        Paper, on_delete=models.CASCADE, related_name="authorships", db_index=False
    )
    author = models.ForeignKey(
        Author, on_delete=models.PROTECT, related_name="authorships", db_index=False
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["paper", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "position"], name="authorship_position_unique"
            ),
            models.UniqueConstraint(fields=["author", "paper"], name="authorship_author_unique"),
        ]

    def __str__(self):
        return f"{self.author} (#{self.position + 1})"


class ImportJob(models.Model):
    # The large JSON documents (megabytes for a big file): pages that do not show them
    # defer them.
    DOCUMENTS = ("items", "preview", "report", "input_text")

    """One import run: its input, its progress and the outcome of every item."""

    class Kind(models.TextChoices):
        ARXIV = "arxiv", "arXiv ids"
        DOI = "doi", "DOIs"
        IDENTIFIERS = "identifiers", "arXiv ids and DOIs"
        BIBTEX = "bibtex", "BibTeX"

    class Status(models.TextChoices):
        PREPARING = "preparing", "Preparing the preview"
        PREVIEW = "preview", "Preview"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEW)
    input_text = models.TextField(blank=True)
    filename = models.CharField(max_length=255, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    possible_duplicate_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    items = models.JSONField(
        default=list,
        blank=True,
        help_text="The prepared items: each input with its fetched or parsed record, or "
        "why it could not be read.",
    )
    preview = models.JSONField(
        default=list,
        blank=True,
        help_text="What the import would do with each item (the dry run).",
    )
    report = models.JSONField(
        default=list,
        blank=True,
        help_text="One entry per item: its input, outcome, paper id and reason.",
    )
    error = models.TextField(blank=True, help_text="Why the whole job failed, if it did.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed__lte=models.F("total")),
                name="importjob_processed_le_total",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} import #{self.pk} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("papers:import", kwargs={"pk": self.pk})

    @property
    def percent_done(self):
        return round(100 * self.processed / self.total) if self.total else 0

    @property
    def is_in_progress(self):
        return self.status in {self.Status.PREPARING, self.Status.QUEUED, self.Status.RUNNING}


class PossibleDuplicate(models.Model):
    """Two papers that may be the same (same title, year within one, same first author),
    flagged for an admin, or recorded as "not a duplicate" so they are not flagged again.

    The pair is stored in id order (paper_a < paper_b): one row per pair, whichever side
    was found first.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Possible duplicate"
        NOT_DUPLICATE = "not_duplicate", "Not a duplicate"

    paper_a = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    paper_b = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(max_length=300, blank=True)
    job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["paper_a", "paper_b"], name="possibleduplicate_pair"),
            models.CheckConstraint(
                condition=Q(paper_a__lt=models.F("paper_b")),
                name="possibleduplicate_pair_ordered",
            ),
        ]

    def __str__(self):
        return f"#{self.paper_a_id} and #{self.paper_b_id}: {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("papers:merge", kwargs={"a": self.paper_a_id, "b": self.paper_b_id})
