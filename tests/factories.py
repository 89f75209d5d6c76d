"""Small builders for test data: plain functions over the real models."""

import datetime
import itertools

from accounts.models import User
from courses.models import Course, Lecture, Membership, Reading
from papers.models import Author, Authorship, Paper
from papers.normalize import author_key, title_key

_counter = itertools.count(1)


def make_user(email=None, *, password="a-Strong-pass-123", **extra):
    email = email or f"user{next(_counter)}@example.org"
    return User.objects.create_user(email=email, password=password, **extra)


def make_paper(title=None, *, authors=("Ada Lovelace", "Alan Turing"), **fields):
    title = title or f"A Paper Number {next(_counter)}"
    paper = Paper.objects.create(title=title, title_key=title_key(title), **fields)
    for position, name in enumerate(authors):
        author, _ = Author.objects.get_or_create(key=author_key(name), defaults={"name": name})
        Authorship.objects.create(paper=paper, author=author, position=position)
    return paper


def make_course(code="15-849", *, term="Spring 2022", **fields):
    fields.setdefault("title", "Machine Learning Systems")
    fields.setdefault("slug", f"{code}-{term}".lower().replace(" ", "-") + f"-{next(_counter)}")
    return Course.objects.create(code=code, term=term, **fields)


def make_lecture(course, number=None, *, date=None, title=None, **fields):
    number = number if number is not None else next(_counter)
    return Lecture.objects.create(
        course=course,
        number=number,
        date=date,
        title=title or f"Lecture on topic {number}",
        **fields,
    )


def make_reading(lecture, paper=None, *, required=True, order=0, **fields):
    return Reading.objects.create(
        lecture=lecture, paper=paper or make_paper(), required=required, order=order, **fields
    )


def enrol(user, course, role=Membership.Role.STUDENT):
    return Membership.objects.create(user=user, course=course, role=role)


def day(offset, base=None):
    """A date `offset` days from base (default: today in UTC)."""
    base = base or datetime.date.today()
    return base + datetime.timedelta(days=offset)
