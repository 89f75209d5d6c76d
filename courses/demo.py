"""The demo data set: verified papers, six ML-systems courses and, on request, demo logins.

Everything comes from the JSON files in `courses/data/demo/` (copies of the research
data; see EVIDENCE.md there). `load_demo()` is idempotent: it matches what is already in
the database (papers by citation key, arXiv id or DOI; courses by slug; lectures by
number; readings by lecture and paper) and saves a row only when one of its fields
differs, so a second run creates nothing and changes nothing. It never deletes rows.

Reading lists published by a course site (UC Berkeley CS294) mostly link papers that are
not among the verified ones. Each such link becomes a catalog entry with the published
title and link only, marked `metadata_incomplete`, and is shared by every reading that
links the same thing (same arXiv id, same URL or same normalised title).
"""

import datetime
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from accounts.models import User
from courses.models import Course, Lecture, Membership, Reading
from papers.models import Author, Authorship, Paper, Topic
from papers.normalize import author_key, normalize_doi, parse_arxiv_id, title_key

DATA_DIR = Path(__file__).parent / "data" / "demo"

# Course time zones by institution (the data gives none; reviews are due in local time).
INSTITUTION_TIMEZONES = {
    "Carnegie Mellon University": "America/New_York",
    "UC Berkeley": "America/Los_Angeles",
}

# Links that only offer another copy of the reading before them ("[pdf]", "[key]"):
# they are not readings of their own.
AUXILIARY_LINK_TEXTS = {"pdf", "key", "slides", "video"}
AUXILIARY_MARKER = re.compile(r"\s*\[(?:pdf|key|slides|video)\](?:,\s*)?", re.IGNORECASE)
# Placeholder bullets of a published list that name no reading.
PLACEHOLDER = re.compile(r"^more readings? coming soon", re.IGNORECASE)
# A Markdown link the course site failed to render: "[Title](url )".
MARKDOWN_LINK = re.compile(r"^\[(?P<text>[^\]]+)\]\((?P<url>\S+)\s*\)$")
# A trailing venue/award label in a published title: "... [SC’21, Best Paper finalist]".
TRAILING_LABEL = re.compile(r"\s*\[[^\]]*\]\s*$")

# Descriptions the data cannot produce by itself (written from the lecture titles).
DESCRIPTIONS = {
    "15-442-15-642-spring-2024": (
        "The later joint CMU course of Tianqi Chen and Zhihao Jia: automatic "
        "differentiation, hardware acceleration and GPU programming, ML compilation, "
        "parallel training and memory optimization, then LLM training and serving; with "
        "labs and a course project."
    ),
}

# Human-readable provenance for the six demo courses, written from each course's
# `provenance`, `term_note`, `relation_note`, `code_note` and `source_quirks` fields.
PROVENANCE = {
    "15-849-spring-2022": (
        "Real: code, title, instructor, course URL and topic list, from the course home "
        "page. Inferred: the term (Spring 2022), from citations of the course page; it is "
        "not stated on any page that could be retrieved. Curated sample: the lecture plan "
        "and the readings are a demo built from the course's topics; the real schedule "
        "could not be retrieved."
    ),
    "15-884-spring-2021": (
        "Real: code, title, term, instructor (Tianqi Chen), course URL and format (paper "
        "reviews, paper presentations, course project), from the course's logistics page; "
        "the title and slides of lecture 1 come from a published citation of its slide "
        "deck. Curated sample: every lecture after lecture 1 and all reading assignments, "
        "built in the course's stated paper-review format; the real schedule could not be "
        "retrieved."
    ),
    "15-442-15-642-spring-2024": (
        "Real: code, title, term, instructors, course URL and the whole dated schedule "
        "(lecture titles, dates, lecturers, slides and lab deadlines), from the course "
        "site's lecture list during the Spring 2024 term. Two lectures have no title in "
        "the source. Curated sample: the readings; the course site lists none, so verified "
        "papers were attached where a lecture title names their topic. This is the later "
        "joint course of the 15-884 and 15-849 instructors, included for its real dates."
    ),
    "cs294-fall-2019": (
        "Real: the course facts and every lecture's reading list, parsed from the "
        "published course site (ucbrise/cs294-ai-sys-fa19) and kept with their own "
        "wording and links; the course number comes from the site's repository name. "
        "Readings that are not among the verified papers are listed with their published "
        "title and link only. Kept as published: class slots 30 and 31 are titled "
        "(12/6) and (12/9) but dated 12/9 and 12/13 by the page."
    ),
    "cs294-spring-2019": (
        "Real: the course facts and every lecture's reading list, parsed from the "
        "published course site (ucbrise/cs294-ai-sys-sp19) and kept with their own "
        "wording and links; the course number comes from the site's repository name. "
        "Readings that are not among the verified papers are listed with their published "
        "title and link only. Kept as published: lecture 7 is titled 'Distributed Systems "
        "for ML' but its readings continue the learned-index topic, and the page links "
        "the PCC Vivace reading to the arXiv preprint of the Horizon paper."
    ),
    "cs294-spring-2022": (
        "Real: the course facts and every lecture's reading list, parsed from the "
        "published course site (ucbrise/cs294-ai-sys-sp22) and kept with their own "
        "wording and links; the course number comes from the repository name. Readings "
        "that are not among the verified papers are listed with their published title and "
        "link only. Lecture descriptions name the week's guest speaker, as published."
    ),
}


class DemoDataError(Exception):
    """The demo data cannot be loaded (or demo accounts may not be created here)."""


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    first_name: str
    last_name: str
    role: str | None = None  # Membership.Role in the first course; None for none
    superuser: bool = False


DEMO_ACCOUNTS = (
    DemoAccount(
        "student@demo.mlsys-reader.test",
        "demo-student-2026",
        "Demo",
        "Student",
        role=Membership.Role.STUDENT,
    ),
    DemoAccount(
        "instructor@demo.mlsys-reader.test",
        "demo-instructor-2026",
        "Demo",
        "Instructor",
        role=Membership.Role.INSTRUCTOR,
    ),
    DemoAccount("ta@demo.mlsys-reader.test", "demo-ta-2026", "Demo", "TA", role=Membership.Role.TA),
    DemoAccount("admin@demo.mlsys-reader.test", "demo-admin-2026", "Demo", "Admin", superuser=True),
)


@dataclass
class AccountLogin:
    email: str
    password: str
    description: str
    created: bool


@dataclass
class DemoSummary:
    verified_papers: int = 0
    incomplete_papers: int = 0
    courses: int = 0
    lectures: int = 0
    readings: int = 0
    created: int = 0  # rows inserted by this run
    updated: int = 0  # rows whose fields this run changed
    logins: list[AccountLogin] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"papers: {self.verified_papers} verified, {self.incomplete_papers} incomplete "
            f"entries; courses: {self.courses}; lectures: {self.lectures}; "
            f"readings: {self.readings}"
        )


def read_demo_data(*, data_dir: Path = DATA_DIR) -> tuple[list[dict], list[dict]]:
    """The papers and the courses of the demo data, as published in its JSON files."""
    papers = json.loads((data_dir / "papers.json").read_text(encoding="utf-8"))["papers"]
    courses = json.loads((data_dir / "courses.json").read_text(encoding="utf-8"))["courses"]
    return papers, courses


def course_slug(*, code: str, term: str) -> str:
    """'15-442/15-642', 'Spring 2024' -> '15-442-15-642-spring-2024'."""
    return slugify(f"{code.replace('/', '-')} {term}")


def load_demo(*, with_accounts: bool = False, data_dir: Path = DATA_DIR) -> DemoSummary:
    """Load (or bring up to date) the demo papers and courses, in one transaction.

    With `with_accounts`, also create the demo logins, which is refused unless
    `settings.DEMO_ACCOUNTS_ALLOWED` (a development machine): their passwords are published.
    """
    if with_accounts and not settings.DEMO_ACCOUNTS_ALLOWED:
        raise DemoDataError(
            "refusing to create demo accounts with published passwords: DEBUG is off "
            "(settings.DEMO_ACCOUNTS_ALLOWED is False)"
        )
    papers, courses = read_demo_data(data_dir=data_dir)
    loader = _Loader()
    with transaction.atomic():
        loader.load_papers(papers)
        first_course = None
        for position, course_data in enumerate(courses, start=1):
            course = loader.load_course(course_data, position=position)
            first_course = first_course or course
        if with_accounts:
            if first_course is None:
                raise DemoDataError("the demo data has no course to enrol the demo accounts in")
            loader.load_accounts(first_course)
    return loader.summary()


class _Loader:
    def __init__(self):
        self.created = 0
        self.updated = 0
        self.verified: dict[str, Paper] = {}
        self.entries: set[int] = set()  # pks of the unverified catalog entries used
        self.courses: set[int] = set()
        self.lectures: set[int] = set()
        self.readings: set[int] = set()
        self.logins: list[AccountLogin] = []
        self.authors: dict[str, Author] = {}
        self.topics = {topic.name: topic for topic in Topic.objects.all()}

    def summary(self) -> DemoSummary:
        return DemoSummary(
            verified_papers=len(self.verified),
            incomplete_papers=len(self.entries - {p.pk for p in self.verified.values()}),
            courses=len(self.courses),
            lectures=len(self.lectures),
            readings=len(self.readings),
            created=self.created,
            updated=self.updated,
            logins=self.logins,
        )

    # -- saving only what changed ------------------------------------------------

    def _sync(self, obj, fields: dict) -> None:
        """Create `obj` or save the fields that differ; do nothing when none does."""
        if obj.pk is None:
            for name, value in fields.items():
                setattr(obj, name, value)
            obj.save()
            self.created += 1
            return
        changed = [name for name, value in fields.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, fields[name])
            obj.save()
            self.updated += 1

    # -- papers ------------------------------------------------------------------

    def load_papers(self, papers: list[dict]) -> None:
        for entry in papers:
            if entry["key"] in self.verified:
                raise DemoDataError(f"papers.json: key {entry['key']!r} appears twice")
            self.verified[entry["key"]] = self._load_verified_paper(entry)

    def _load_verified_paper(self, entry: dict) -> Paper:
        key = entry["key"]
        arxiv = parse_arxiv_id(entry["arxiv_id"]) if entry.get("arxiv_id") else None
        if entry.get("arxiv_id") and arxiv is None:
            raise DemoDataError(f"paper {key}: malformed arXiv id {entry['arxiv_id']!r}")
        doi = normalize_doi(entry["doi"]) if entry.get("doi") else None
        if entry.get("doi") and doi is None:
            raise DemoDataError(f"paper {key}: malformed DOI {entry['doi']!r}")

        paper = Paper.objects.filter(citation_key=key).first()
        if paper is None and arxiv:
            paper = Paper.objects.filter(arxiv_id=arxiv[0]).first()
        if paper is None and doi:
            paper = Paper.objects.filter(doi=doi).first()
        paper = paper or Paper()

        fields = {
            "title": entry["title"],
            "title_key": title_key(entry["title"]),
            "year": entry.get("year"),
            "venue": entry.get("venue") or "",
            "entry_type": entry_type_for(entry.get("venue") or ""),
            "url": entry.get("url") or "",
            "citation_key": key,
            "source": Paper.Source.DEMO,
            "metadata_incomplete": False,
            "more_authors": False,
        }
        # Identifiers, abstract and BibTeX are set when the data has them, never erased.
        if arxiv:
            fields["arxiv_id"] = arxiv[0]
            if arxiv[1] is not None:
                fields["arxiv_version"] = arxiv[1]
        if doi:
            fields["doi"] = doi
        if entry.get("abstract"):
            fields["abstract"] = entry["abstract"]
        if entry.get("bibtex"):
            fields["source_bibtex"] = entry["bibtex"]
        self._sync(paper, fields)
        self._sync_authors(paper, entry["authors"], key=key)
        self._sync_topics(paper, entry.get("topics") or [], key=key)
        return paper

    def _author(self, name: str) -> Author:
        key = author_key(name)
        if not key:
            raise DemoDataError(f"author name {name!r} has no letters")
        if key not in self.authors:
            author = Author.objects.filter(key=key).first()
            if author is None:
                author = Author.objects.create(key=key, name=name)
                self.created += 1
            self.authors[key] = author
        return self.authors[key]

    def _sync_authors(self, paper: Paper, names: list[str], *, key: str) -> None:
        wanted = [self._author(name).pk for name in names]
        if len(set(wanted)) != len(wanted):
            raise DemoDataError(f"paper {key}: the same author is listed twice")
        current = list(paper.authorships.order_by("position").values_list("author_id", flat=True))
        if current == wanted:
            return
        if current:
            paper.authorships.all().delete()
            self.updated += 1
        Authorship.objects.bulk_create(
            Authorship(paper=paper, author_id=author_id, position=position)
            for position, author_id in enumerate(wanted)
        )
        self.created += len(wanted)

    def _sync_topics(self, paper: Paper, names: list[str], *, key: str) -> None:
        unknown = [name for name in names if name not in self.topics]
        if unknown:
            raise DemoDataError(f"paper {key}: unknown topic {unknown[0]!r}")
        wanted = {self.topics[name].pk for name in names}
        current = set(paper.topics.values_list("pk", flat=True))
        if current != wanted:
            paper.topics.set(wanted)
            self.created += len(wanted - current)
            self.updated += int(bool(current - wanted))

    def _catalog_entry(self, title: str, url: str) -> Paper:
        """The catalog entry for a published link to an unverified paper: an existing
        paper with the same arXiv id, else the same URL, else the same normalised title;
        otherwise a new entry with only the title and the link.

        An arXiv id or URL already used by a paper of an unrelated title is not trusted
        (a course page may link the wrong preprint): the entry keeps the URL but not the id.
        """
        key = title_key(title)
        arxiv = parse_arxiv_id(url) if url else None
        if arxiv:
            holder = Paper.objects.filter(arxiv_id=arxiv[0]).first()
            if holder is not None:
                if same_title(holder.title_key, key):
                    return self._use_entry(holder)
                arxiv = None
        if url:
            for paper in Paper.objects.filter(url=url).order_by("pk"):
                if same_title(paper.title_key, key):
                    return self._use_entry(paper)
        if key:
            paper = Paper.objects.filter(title_key=key).order_by("pk").first()
            if paper is not None:
                return self._use_entry(paper)
        paper = Paper()
        self._sync(
            paper,
            {
                "title": title,
                "title_key": key,
                "url": url,
                "arxiv_id": arxiv[0] if arxiv else None,
                "arxiv_version": arxiv[1] if arxiv else None,
                "entry_type": Paper.EntryType.MISC,
                "source": Paper.Source.DEMO,
                "metadata_incomplete": True,
            },
        )
        return self._use_entry(paper)

    def _use_entry(self, paper: Paper) -> Paper:
        self.entries.add(paper.pk)
        return paper

    # -- courses -----------------------------------------------------------------

    def load_course(self, data: dict, *, position: int) -> Course:
        slug = course_slug(code=data["code"], term=data["term"])
        course = Course.objects.filter(slug=slug).first() or Course()
        self._sync(
            course,
            {
                "slug": slug,
                "code": data["code"],
                "title": data["title"],
                "term": data["term"],
                "institution": data.get("institution") or "",
                "instructor_names": ", ".join(data.get("instructors") or []),
                "url": data.get("url") or "",
                "meeting": data.get("meeting") or "",
                "description": course_description(data, slug=slug),
                "provenance": course_provenance(data, slug=slug),
                "timezone": INSTITUTION_TIMEZONES.get(
                    data.get("institution") or "", settings.TIME_ZONE
                ),
                "is_public": True,
                "position": position,
            },
        )
        self.courses.add(course.pk)
        numbers = set()
        for lecture_data in data["lectures"]:
            number = lecture_data.get("number", lecture_data.get("slot"))
            if number in numbers:
                raise DemoDataError(f"{data['code']} {data['term']}: lecture {number} twice")
            numbers.add(number)
            self._load_lecture(course, data, lecture_data, number=number)
        return course

    def _load_lecture(self, course: Course, course_data: dict, data: dict, *, number) -> None:
        lecture = Lecture.objects.filter(course=course, number=number).first()
        lecture = lecture or Lecture(course=course, number=number)
        # The subtitle (a guest speaker) is kept; the parsed `week` is not, as the date
        # says more and CS294 Spring 2022 numbers its weekly classes two to a week.
        date = data.get("date")
        self._sync(
            lecture,
            {
                "title": data["title"],
                "date": datetime.date.fromisoformat(date) if date else None,
                "description": data.get("subtitle") or "",
                "lecturer": lecturer_name(
                    data.get("lecturer") or "", course_data.get("instructors") or []
                ),
                "slides_url": data.get("slides_url") or "",
                "note": data.get("logistics") or "",
            },
        )
        self.lectures.add(lecture.pk)

        seen: set[int] = set()
        order = 0
        for reading in data.get("readings") or []:
            for paper, fields in self._reading_targets(reading, course_data):
                if paper.pk in seen:
                    continue  # the same paper twice in one lecture: keep the first
                seen.add(paper.pk)
                self._sync_reading(lecture, paper, {**fields, "order": order})
                order += 1

    def _reading_targets(self, reading: dict, course_data: dict):
        """(paper, reading fields) for each paper one published reading assigns."""
        required = bool(reading.get("required", True))
        if "paper" in reading:  # a curated reading of a verified paper
            yield self._verified_paper(reading["paper"]), {"required": required}
            return
        section = (reading.get("section") or "").strip().rstrip(":").strip()
        text = " ".join((reading.get("text") or "").split())
        links = [
            link
            for index, link in enumerate(reading.get("links") or [])
            if index == 0 or (link.get("text") or "").strip().lower() not in AUXILIARY_LINK_TEXTS
        ]
        # The published text, without the "[pdf]" / "[key]" markers of the skipped links.
        note_text = AUXILIARY_MARKER.sub(" ", text).strip().rstrip(" ,")
        base = {"required": required, "section": section}
        if not links:
            if not text or PLACEHOLDER.match(text):
                return
            match = MARKDOWN_LINK.match(text)
            if match:
                links = [{"text": match["text"], "url": match["url"], "paper": None}]
                note_text = match["text"]
            else:
                title = clean_title(text)
                yield self._catalog_entry(title, ""), {**base, "note": ""}
                return
        for link in links:
            link_text = " ".join((link.get("text") or "").split())
            if link.get("paper"):
                paper = self._verified_paper(link["paper"])
                note = note_text if note_text != link_text else ""
            else:
                title = clean_title(link_text)
                url = (link.get("url") or "").strip()
                if url and not re.match(r"^https?://", url):
                    url = urljoin(course_data.get("url") or "", url)
                paper = self._catalog_entry(title, url)
                note = note_text if note_text != title else ""
            yield paper, {**base, "note": note}

    def _verified_paper(self, key: str) -> Paper:
        try:
            return self.verified[key]
        except KeyError:
            raise DemoDataError(f"courses.json refers to unknown paper {key!r}") from None

    def _sync_reading(self, lecture: Lecture, paper: Paper, fields: dict) -> None:
        reading = Reading.objects.filter(lecture=lecture, paper=paper).first()
        reading = reading or Reading(lecture=lecture, paper=paper)
        fields.setdefault("section", "")
        fields.setdefault("note", "")
        self._sync(reading, fields)
        self.readings.add(reading.pk)

    # -- accounts ----------------------------------------------------------------

    def load_accounts(self, course: Course) -> None:
        """Create the demo logins that do not exist yet; existing ones are left as they
        are (their password is not reset, their memberships not changed)."""
        for account in DEMO_ACCOUNTS:
            user = User.objects.filter(email__iexact=account.email).first()
            created = user is None
            if created:
                make = (
                    User.objects.create_superuser if account.superuser else User.objects.create_user
                )
                user = make(
                    email=account.email,
                    password=account.password,
                    first_name=account.first_name,
                    last_name=account.last_name,
                )
                self.created += 1
            if account.superuser:
                description = "site admin: staff and superuser"
            else:
                _, new = Membership.objects.get_or_create(
                    user=user, course=course, defaults={"role": account.role}
                )
                self.created += int(new)
                role = Membership.Role(account.role).label.lower()
                description = f"{role} of {course.code} {course.term}"
            self.logins.append(AccountLogin(account.email, account.password, description, created))


# -- pure helpers -------------------------------------------------------------------


def entry_type_for(venue: str) -> str:
    """A BibTeX entry type guessed from a venue string."""
    text = venue.lower()
    if text.startswith("arxiv") or not text:
        return Paper.EntryType.MISC
    if "journal" in text or "transactions" in text:
        return Paper.EntryType.ARTICLE
    return Paper.EntryType.INPROCEEDINGS


def same_title(a: str, b: str) -> bool:
    """Whether two normalised titles name the same work: equal, or one is the other's
    beginning ('theano' / 'theano a python framework for ...')."""
    if not a or not b:
        return False
    return a == b or a.startswith(b + " ") or b.startswith(a + " ")


def clean_title(text: str) -> str:
    """A published link text as a title: without surrounding quotes and without a
    trailing label such as '[SC’21]' or '[pdf]'."""
    title = " ".join(text.split())
    stripped = TRAILING_LABEL.sub("", title)
    title = stripped or title
    if len(title) > 2 and title[0] == title[-1] == '"':
        title = title[1:-1].strip()
    return title


def lecturer_name(name: str, instructors: list[str]) -> str:
    """'Chen' -> 'Tianqi Chen' and 'Both' -> both instructors, when unambiguous."""
    name = name.strip()
    if name == "Both" and len(instructors) == 2:
        return " and ".join(instructors)
    matches = [full for full in instructors if full.split()[-1] == name]
    return matches[0] if len(matches) == 1 else name


def course_description(data: dict, *, slug: str) -> str:
    """A short description built only from what the data states about the course."""
    if data.get("description_topics"):
        return "Topics: " + ", ".join(data["description_topics"]) + "."
    if data.get("format"):
        fmt = data["format"]
        parts = []
        if fmt.get("components"):
            components = list(fmt["components"])
            listed = ", ".join(components[:-1]) + " and " + components[-1]
            parts.append(f"Course work: {listed if len(components) > 1 else components[0]}.")
        if fmt.get("grading"):
            parts.append(fmt["grading"])
        return " ".join(parts)
    if data.get("format_as_stated"):
        return data["format_as_stated"]
    if slug in DESCRIPTIONS:
        return DESCRIPTIONS[slug]
    if data.get("provenance") == "real":
        return "Weekly readings as published on the course site."
    return ""


def course_provenance(data: dict, *, slug: str) -> str:
    """Which facts of the course are real and which are a curated sample."""
    if slug in PROVENANCE:
        return PROVENANCE[slug]
    provenance = data.get("provenance")
    if provenance == "real":
        return "Real: the course facts and reading lists, as published by the course site."
    if isinstance(provenance, dict):
        parts = []
        for label, key in (("Real", "real"), ("Inferred", "inferred")):
            if provenance.get(key):
                parts.append(f"{label}: " + "; ".join(provenance[key]) + ".")
        if provenance.get("curated_sample"):
            parts.append("Curated sample: " + "; ".join(provenance["curated_sample"]) + ".")
        return " ".join(parts)
    return ""
