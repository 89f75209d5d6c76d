"""The catalog's admin: identifiers kept in normal form, clashes said on the form,
import jobs shown without their megabytes of items and report."""

from django.contrib import admin
from django.db import connection
from django.test import RequestFactory, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from papers.models import Author, ImportJob, Paper
from tests.factories import make_paper, make_user


class AdminTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin_user = make_user(is_staff=True, is_superuser=True)

    def setUp(self):
        self.client.force_login(self.admin_user)

    def form(self, model, instance, **data):
        """The admin's change form for `instance`, bound to its values and `data`."""
        request = RequestFactory().get("/")
        request.user = self.admin_user
        model_admin = admin.site._registry[model]
        form_class = model_admin.get_form(request, instance, change=True)
        values = {name: field.initial for name, field in form_class.base_fields.items()}
        values.update(
            {
                name: getattr(instance, name)
                for name in form_class.base_fields
                if hasattr(instance, name) and name not in ("topics", "tags")
            }
        )
        values.update(data)
        return form_class({k: "" if v is None else v for k, v in values.items()}, instance=instance)


class PaperAdminTests(AdminTestCase):
    def test_identifiers_are_stored_as_the_import_stores_them(self):
        paper = make_paper("FlashAttention")
        form = self.form(
            Paper,
            paper,
            doi=" https://doi.org/10.52202/068431-1189 ",
            arxiv_id="arXiv:2205.14135v2",
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(
            (form.cleaned_data["doi"], form.cleaned_data["arxiv_id"]),
            ("10.52202/068431-1189", "2205.14135"),
        )

    def test_a_malformed_identifier_is_an_error_on_its_field(self):
        form = self.form(Paper, make_paper("X"), doi="not a doi", arxiv_id="2205")
        self.assertFalse(form.is_valid())
        self.assertEqual(
            form.errors["doi"], ["Not a DOI: give it as 10.1145/… or a https://doi.org/ link."]
        )
        self.assertEqual(
            form.errors["arxiv_id"],
            ["Not an arXiv id: give it as 2205.14135, cs/0112017 or an arxiv.org link."],
        )


class AuthorAdminTests(AdminTestCase):
    def test_renaming_onto_another_authors_name_is_an_error_not_a_500(self):
        tri = Author.objects.create(name="Tri Dao", key="tri dao")
        other = Author.objects.create(name="T. Dao", key="t dao")
        response = self.client.post(
            reverse("admin:papers_author_change", args=[other.pk]),
            {"name": "Tri  DAO", "is_organisation": ""},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.context["adminform"].form.errors["name"],
            [
                f"Author #{tri.pk} “Tri Dao” already has this name (names are matched "
                "without case, accents or punctuation)."
            ],
        )
        other.refresh_from_db()
        self.assertEqual((other.name, other.key), ("T. Dao", "t dao"))

    def test_a_rename_updates_the_key(self):
        author = Author.objects.create(name="T. Dao", key="t dao")
        response = self.client.post(
            reverse("admin:papers_author_change", args=[author.pk]),
            {"name": "Tri  Dao", "is_organisation": ""},
        )
        self.assertRedirects(response, reverse("admin:papers_author_changelist"))
        author.refresh_from_db()
        self.assertEqual((author.name, author.key), ("Tri Dao", "tri dao"))


class ImportJobAdminTests(AdminTestCase):
    def test_pages_do_not_load_or_show_the_job_documents(self):
        job = ImportJob.objects.create(
            kind="bibtex",
            status="done",
            total=1,
            input_text="@article{secret-input,}",
            items=[{"input": "secret-item"}],
            report=[{"input": "secret-report"}],
        )
        for url in (
            reverse("admin:papers_importjob_changelist"),
            reverse("admin:papers_importjob_change", args=[job.pk]),
        ):
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(url)
            self.assertEqual(response.status_code, 200)
            for secret in ("secret-input", "secret-item", "secret-report"):
                self.assertNotContains(response, secret)
            selects = [q["sql"] for q in queries if 'FROM "papers_importjob"' in q["sql"]]
            self.assertTrue(selects)
            for sql in selects:
                self.assertNotIn('"papers_importjob"."report"', sql)
                self.assertNotIn('"papers_importjob"."items"', sql)
        self.assertContains(response, f'href="{job.get_absolute_url()}"')
