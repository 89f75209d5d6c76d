from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat, truncatechars

from papers import services
from papers.models import ImportJob, Paper


def max_bibtex_bytes() -> int:
    return settings.BIBTEX_MAX_BYTES


class IdentifiersForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput, initial="identifiers")
    identifiers = forms.CharField(
        label="arXiv ids, arXiv URLs and DOIs",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="Any mix, one or several per line: 2106.09685, arXiv:2106.09685v2, "
        "cs/0112017, https://arxiv.org/abs/2205.14135, 10.1145/3620665.3640366, "
        "doi:10.…, https://doi.org/10.…",
    )

    def clean_identifiers(self):
        text = self.cleaned_data["identifiers"]
        identifiers = services.parse_identifiers(text=text)
        if len(identifiers) > services.max_identifiers():
            raise forms.ValidationError(
                f"{len(identifiers)} identifiers: import at most "
                f"{services.max_identifiers()} at a time."
            )
        if not any(identifier.kind for identifier in identifiers):
            shown = ", ".join(truncatechars(i.input, 40) for i in identifiers[:5])
            raise forms.ValidationError(f"None of these is an arXiv id, arXiv URL or DOI: {shown}")
        return text

    def create_job(self, *, created_by) -> ImportJob:
        return services.create_identifier_job(
            text=self.cleaned_data["identifiers"], created_by=created_by
        )


class BibtexForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput, initial="bibtex")
    file = forms.FileField(
        label="BibTeX file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".bib,.bibtex,.txt,text/x-bibtex"}),
        help_text="UTF-8 (with or without BOM), UTF-16 with BOM, or Latin-1/Windows-1252.",
    )
    text = forms.CharField(
        label="or paste BibTeX",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )

    def __init__(self, *args, request_too_big=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_too_big = request_too_big
        self.result = None

    def clean(self):
        limit = max_bibtex_bytes()
        if self.request_too_big:
            pasted = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            raise forms.ValidationError(
                f"The pasted BibTeX is larger than {pasted}: upload it as a file instead."
            )
        upload, text = self.cleaned_data.get("file"), self.cleaned_data.get("text", "")
        if upload and text.strip():
            raise forms.ValidationError("Upload a file or paste BibTeX, not both.")
        if not upload and not text.strip():
            raise forms.ValidationError("Upload a BibTeX file or paste BibTeX entries.")
        field = "file" if upload else "text"
        size = upload.size if upload else len(text.encode("utf-8"))
        if size > limit:
            self.add_error(
                field,
                f"This BibTeX is {filesizeformat(size)}; the limit is {filesizeformat(limit)}.",
            )
            return self.cleaned_data
        data = upload.read() if upload else text.encode("utf-8")
        try:
            self.result = services.read_bibtex_upload(
                data=data, filename=upload.name if upload else ""
            )
        except services.BibtexRefused as exc:
            self.add_error(field, str(exc))
            return self.cleaned_data
        if not self.result.records and not self.result.errors:
            self.add_error(field, "No BibTeX entries found.")
        return self.cleaned_data

    def create_job(self, *, created_by) -> ImportJob:
        upload = self.cleaned_data.get("file")
        return services.create_bibtex_job(
            records=self.result.records,
            errors=self.result.errors,
            text="" if upload else self.cleaned_data["text"],
            filename=upload.name if upload else "",
            created_by=created_by,
        )


MERGE_LABELS = {
    "title": "Title",
    "authors": "Authors",
    "year": "Year",
    "venue": "Venue",
    "entry_type": "Type",
    "abstract": "Abstract",
    "arxiv": "arXiv id (with version, category, comment, dates)",
    "doi": "DOI",
    "url": "Web page",
    "pdf_url": "PDF URL",
    "citation_key": "Citation key",
    "source_bibtex": "Reference BibTeX",
}


def _display(paper: Paper, choice: str) -> str:
    if choice == "authors":
        names = [author.name for author in paper.ordered_authors]
        return ", ".join(names + (["others"] if paper.more_authors else []))
    if choice == "arxiv":
        if not paper.arxiv_id:
            return ""
        return paper.arxiv_id + (f"v{paper.arxiv_version}" if paper.arxiv_version else "")
    if choice == "entry_type":
        return paper.get_entry_type_display()
    value = getattr(paper, choice)
    return "" if value is None else str(value)


class MergeForm(forms.Form):
    """Which paper survives, and whose value each differing field keeps."""

    keep = forms.ChoiceField(label="Paper to keep (its page and id survive)")

    def __init__(self, a: Paper, b: Paper, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.papers = {"a": a, "b": b}
        self.fields["keep"].choices = [
            ("a", f"#{a.pk} {truncatechars(a.title, 80)}"),
            ("b", f"#{b.pk} {truncatechars(b.title, 80)}"),
        ]
        self.fields["keep"].widget = forms.RadioSelect(choices=self.fields["keep"].choices)
        self.fields["keep"].initial = "a"
        self.choices = []
        for choice in services.MERGE_FIELDS:
            value_a, value_b = _display(a, choice), _display(b, choice)
            if value_a == value_b:
                continue
            self.fields[f"field_{choice}"] = forms.ChoiceField(
                label=MERGE_LABELS[choice],
                choices=[
                    ("a", f"#{a.pk}: {truncatechars(value_a, 200) or '(empty)'}"),
                    ("b", f"#{b.pk}: {truncatechars(value_b, 200) or '(empty)'}"),
                ],
                widget=forms.RadioSelect,
                initial="a" if value_a else "b",
            )
            self.choices.append(choice)

    def merge_arguments(self) -> dict:
        keep_side = self.cleaned_data["keep"]
        other_side = "b" if keep_side == "a" else "a"
        fields = {
            choice: "keep" if self.cleaned_data[f"field_{choice}"] == keep_side else "other"
            for choice in self.choices
        }
        return {
            "keep": self.papers[keep_side],
            "other": self.papers[other_side],
            "fields": fields,
        }
