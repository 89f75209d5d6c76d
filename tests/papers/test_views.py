import bibtexparser
from django.test import TestCase
from django.urls import reverse

from courses.models import Membership
from papers.models import Paper, Topic
from papers.views import PAPERS_PER_PAGE
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user


class PaperDetailTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.topic = Topic.objects.get(slug="ml-compilers-and-runtimes")
        cls.paper = make_paper(
            "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
            authors=["Tri Dao", "Daniel Y. Fu", "Stefano Ermon", "Atri Rudra", "Christopher Ré"],
            year=2022,
            venue="NeurIPS 2022",
            entry_type="inproceedings",
            arxiv_id="2205.14135",
            arxiv_version=2,
            doi="10.52202/068431-1189",
            abstract="Transformers are slow and memory-hungry on long sequences.",
            citation_key="dao2022flashattention",
        )
        cls.paper.topics.add(cls.topic)
        cls.paper.tags.add("attention", "gpu")
        cls.public = make_course("15-849", slug="public-course")
        make_reading(make_lecture(cls.public, 7, title="Memory optimizations"), cls.paper)
        cls.private = make_course("99-999", slug="private", is_public=False, title="Secret Seminar")
        make_reading(make_lecture(cls.private, 3, title="Hidden lecture"), cls.paper)

    def test_detail_shows_all_metadata(self):
        response = self.client.get(self.paper.get_absolute_url())
        html = response.content.decode()
        self.assertInHTML(
            "<h1>FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness</h1>",
            html,
        )
        self.assertIn("Tri Dao, Daniel Y. Fu, Stefano Ermon, Atri Rudra and Christopher Ré", html)
        self.assertInHTML("<dt>Venue</dt><dd>NeurIPS 2022</dd>", html)
        self.assertInHTML(
            '<dt>arXiv</dt><dd><a href="https://arxiv.org/abs/2205.14135" rel="noopener">2205.14135v2</a></dd>',
            html,
        )
        self.assertIn('href="https://doi.org/10.52202/068431-1189"', html)
        self.assertIn("Transformers are slow and memory-hungry", html)
        self.assertInHTML(
            f'<a href="{self.topic.get_absolute_url()}" class="tag">ML compilers and runtimes</a>',
            html,
        )
        self.assertInHTML('<span class="tag tag--free">#attention</span>', html)

    def test_detail_lists_assigning_lectures_of_visible_courses_only(self):
        response = self.client.get(self.paper.get_absolute_url())
        self.assertEqual(
            [(r.lecture.course.code, r.lecture.number) for r in response.context["readings"]],
            [("15-849", 7)],
        )
        self.assertNotContains(response, "Secret Seminar")
        self.assertNotContains(response, "Hidden lecture")

        self.client.force_login(make_user())  # signed in, but not a member
        response = self.client.get(self.paper.get_absolute_url())
        self.assertEqual(
            [(r.lecture.course.code, r.lecture.number) for r in response.context["readings"]],
            [("15-849", 7)],
        )
        self.assertNotContains(response, "Secret Seminar")

        member = make_user()
        enrol(member, self.private, Membership.Role.STUDENT)
        self.client.force_login(member)
        response = self.client.get(self.paper.get_absolute_url())
        self.assertEqual(len(response.context["readings"]), 2)

    def test_bibtex_is_embedded_with_download_link(self):
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        self.assertIn("@inproceedings{dao2022flashattention,", html)
        self.assertIn(f'href="{reverse("papers:bibtex", args=[self.paper.pk])}"', html)
        self.assertIn('data-copy-target="bibtex"', html)

    def test_bibtex_download_is_a_parseable_bib_file(self):
        response = self.client.get(reverse("papers:bibtex", args=[self.paper.pk]))
        self.assertEqual(response["Content-Type"], "application/x-bibtex; charset=utf-8")
        self.assertEqual(
            response["Content-Disposition"], 'attachment; filename="dao2022flashattention.bib"'
        )
        library = bibtexparser.parse_string(response.content.decode())
        self.assertEqual(library.failed_blocks, [])
        [entry] = library.entries
        self.assertEqual(entry.key, "dao2022flashattention")
        self.assertEqual(entry.entry_type, "inproceedings")
        self.assertEqual(
            entry.fields_dict["author"].value,
            "Dao, Tri and Fu, Daniel Y. and Ermon, Stefano and Rudra, Atri and R{\\'e}, Christopher",
        )
        self.assertEqual(
            entry.fields_dict["title"].value,
            "{FlashAttention:} {Fast} and {Memory-Efficient} {Exact} {Attention} with {IO-Awareness}",
        )
        self.assertEqual(entry.fields_dict["eprint"].value, "2205.14135")
        self.assertEqual(entry.fields_dict["archiveprefix"].value, "arXiv")
        self.assertEqual(entry.fields_dict["doi"].value, "10.52202/068431-1189")
        self.assertEqual(entry.fields_dict["booktitle"].value, "NeurIPS 2022")

    def test_unknown_paper_is_404(self):
        self.assertEqual(self.client.get(reverse("papers:detail", args=[999999])).status_code, 404)

    def test_hostile_html_in_metadata_is_escaped(self):
        paper = make_paper(
            '<script>alert("x")</script>Evil',
            authors=['<img src=x onerror="alert(1)">'],
            abstract='<a href="javascript:alert(1)">click</a>',
        )
        html = self.client.get(paper.get_absolute_url()).content.decode()
        self.assertNotIn("<script>alert", html)
        self.assertNotIn("<img src=x", html)
        self.assertNotIn('<a href="javascript:', html)
        self.assertIn("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;Evil", html)

    def test_detail_query_count_is_constant(self):
        # paper, authorships, topics, tags, readings (+lecture, course)
        with self.assertNumQueries(5):
            self.client.get(self.paper.get_absolute_url())


class CatalogAndTopicTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.topic = Topic.objects.get(slug="distributed-and-parallel-learning-algorithms")
        cls.zero = make_paper(
            "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models",
            authors=["Samyam Rajbhandari", "Jeff Rasley"],
            year=2020,
        )
        cls.megatron = make_paper(
            "Megatron-LM: Training Multi-Billion Parameter Language Models Using Model Parallelism",
            authors=["Mohammad Shoeybi"],
            year=2019,
        )
        cls.tvm = make_paper("TVM", authors=["Tianqi Chen"], year=2018)
        cls.zero.topics.add(cls.topic)
        cls.megatron.topics.add(cls.topic)

    def test_topic_page_lists_its_papers_only(self):
        response = self.client.get(self.topic.get_absolute_url())
        self.assertEqual(list(response.context["page"].object_list), [self.zero, self.megatron])
        self.assertNotContains(response, ">TVM<")

    def test_topic_list_counts_papers(self):
        response = self.client.get(reverse("papers:topics"))
        counts = {t.slug: t.paper_count for t in response.context["topics"]}
        self.assertEqual(counts["distributed-and-parallel-learning-algorithms"], 2)
        self.assertEqual(counts["ml-compilers-and-runtimes"], 0)
        self.assertEqual(len(counts), 15)

    def test_catalog_search_matches_title_and_author(self):
        response = self.client.get(reverse("papers:list"), {"q": "parameter"})
        self.assertEqual(list(response.context["page"].object_list), [self.zero, self.megatron])
        response = self.client.get(reverse("papers:list"), {"q": "tianqi"})
        self.assertEqual(list(response.context["page"].object_list), [self.tvm])

    def test_every_word_must_match_somewhere_and_a_paper_is_listed_once(self):
        many = make_paper(
            "Scaling with many authors", authors=[f"Ann Author{n}" for n in range(30)], year=2020
        )
        # "ann" and "author" match all 30 authors, "scaling" the title.
        papers = Paper.objects.search("ann author scaling author7")
        self.assertEqual(list(papers), [many])
        self.assertEqual(list(Paper.objects.search("ann tianqi")), [])
        # One row per paper whatever the words: authors are asked with EXISTS, the
        # papers are not joined to them.
        self.assertIn('FROM "papers_paper" WHERE', str(papers.query))


class PaginationTests(TestCase):
    def test_the_catalog_and_a_search_go_page_by_page(self):
        for n in range(PAPERS_PER_PAGE + 1):
            make_paper(f"Paper {n:03}", authors=[], year=2000 + n % 2)
        first = self.client.get(reverse("papers:list"))
        self.assertEqual(len(first.context["page"].object_list), PAPERS_PER_PAGE)
        self.assertContains(first, "Page 1 of 2")
        self.assertContains(first, 'href="?page=2" rel="next"')
        second = self.client.get(reverse("papers:list"), {"page": 2})
        self.assertEqual(len(second.context["page"].object_list), 1)
        self.assertContains(second, 'href="?page=1" rel="prev"')
        # A search keeps its words from page to page, and says how many match in all.
        search = self.client.get(reverse("papers:list"), {"q": "paper"})
        self.assertContains(search, f"{PAPERS_PER_PAGE + 1} papers match “paper”")
        self.assertContains(search, 'href="?q=paper&amp;page=2" rel="next"')
        # A page beyond the last (an old link) shows the last.
        late = self.client.get(reverse("papers:list"), {"page": 9})
        self.assertEqual(late.context["page"].number, 2)


class LoginLinkTests(TestCase):
    def test_the_login_link_brings_back_to_the_same_search(self):
        response = self.client.get(reverse("papers:list"), {"q": "tvm", "page": "1"})
        self.assertContains(response, '/accounts/login/?next=/papers/%3Fq%3Dtvm%26page%3D1"')


class ListQueryCountTests(TestCase):
    def test_catalog_and_topic_pages_take_the_same_queries_for_1_and_3_papers(self):
        # papers, authorships (+author), topics; the topic page also loads its topic
        topic = Topic.objects.get(slug="ml-compilers-and-runtimes")
        for count in (1, 3):
            while Paper.objects.count() < count:
                make_paper(authors=["Ada Lovelace", "Alan Turing"]).topics.add(topic)
            with self.assertNumQueries(4):  # (and the count for the pages)
                response = self.client.get(reverse("papers:list"))
            self.assertEqual(len(response.context["page"].object_list), count)
            with self.assertNumQueries(5):
                response = self.client.get(topic.get_absolute_url())
            self.assertEqual(len(response.context["page"].object_list), count)

    def test_unknown_topic_is_404(self):
        self.assertEqual(self.client.get(reverse("papers:topic", args=["nope"])).status_code, 404)
