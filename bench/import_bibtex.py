#!/usr/bin/env python
"""A BibTeX import against bibtexparser's parse alone: time and peak memory.

The bench writes an N-entry BibTeX file (default 10,000) that looks like a real
bibliography: 1 to 20 authors per entry (some with LaTeX accents, `Mart{\\'\\i}n`,
some "Last, First", a few corporate authors and "and others"), titles with
brace-protected acronyms and the odd dash or math, venues from @string macros or
written out, month macros, `#` concatenation, a few `crossref`s, DOIs on about
half the entries, arXiv eprints on a third, abstracts on a third, the dblp extras
(pages, bibsource, timestamp...), and a few repeated papers and near-duplicates.

Then, each in a fresh Python process that has already imported Django and the
project (so both sides start from the same baseline):

* parse: `bibtexparser.parse_string` on the file's text, default parse stack;
* import: the full import into the configured database, through the code path of
  `manage.py import_bibtex` (parse_bibtex_upload, create_bibtex_run, import_now):
  decoding, parsing, LaTeX decoding, matching, writes, job progress and report (the
  entries are read into records batch by batch, inside import_now);
* re-import: the same file again, which must change nothing (checked: no paper
  created, updated or flagged, and a digest of every catalog row is unchanged).

Time is wall-clock, and for the import split into its three calls. Peak memory is
the growth of the process's peak resident set (`getrusage(RUSAGE_SELF).ru_maxrss`)
over its value just before the measured call, the same way on both sides (the parse
is given the file already decoded to text; the import decodes it itself). With several
rounds the median of each is reported; the machine's noise is worth a few rounds.

Goal (issue 3, on PostgreSQL): the import within 3x the parse's time and 2x its
peak memory. Exits 1 when a goal is missed (or the re-import changed something).

    .venv/bin/python bench/import_bibtex.py [--entries 10000] [--rounds 1]

The database is DATABASE_URL when set (its catalog must be empty: the bench deletes
what it imported between rounds), else a fresh PostgreSQL database created on
127.0.0.1:5432 (trust auth, user postgres; BENCH_POSTGRES overrides the server)
and dropped at the end. BIBTEX_MAX_BYTES is raised for the run: a 10,000-entry
file is larger than the upload limit.
"""

import argparse
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "mlsys_reader_bench_import"
TIME_GOAL = 3.0
MEMORY_GOAL = 2.0

# -- the generated bibliography ------------------------------------------------------


def _words(text: str, separator: str | None = None) -> list[str]:
    return text.split(separator)


FIRST = _words(
    "Tianqi Matei Ion Jeff Sanjay Yann Yoshua Geoffrey Alex Ilya Kaiming Ashish Noam "
    "Niki Jakob Llion Aidan Lukasz Illia Tri Dan Christopher Zhihao Minjie Mu Zheng Lianmin "
    "Hao Ying Joseph Ce Song Jure Percy Chelsea Sergey Pieter Kunle Christos Onur Mark "
    "David Michael Sarah Emma Olivia Priya Arvind Rajesh Wei Yu Jing Xin Li Chen Hui Kai "
    "Anna Marta Elena Sofia Lucia Pablo Carlos Diego Javier Andrea Giulia Marco Luca Paolo "
    "Hans Klaus Stefan Tobias Lena Ingrid Sven Lars Nils Mikko Aino Yuki Hiroshi Kenji "
    "Satoshi Min-Jun Ji-Woo Seo-yeon Thanh Minh Ngoc Olga Dmitry Sergei Natalia Ahmed "
    "Fatima Omar Layla Kwame Ama Chidi Ngozi Rafael Beatriz Tiago Ines"
)
FIRST_LATEX = [
    "Mart{\\'\\i}n",
    "Jos{\\'e}",
    "Fran{\\c{c}}ois",
    'J{\\"o}rg',
    "Ren{\\'e}",
    "Se{\\'a}n",
    'Bj{\\"o}rn',
    "Ra{\\'u}l",
    "Andr{\\'e}s",
    'Zo{\\"e}',
    "{\\L}ukasz",
    "Ji{\\v{r}}{\\'\\i}",
    "H{\\'e}l{\\`e}ne",
    "Łukasz",
    "Jürgen",
    "José",
]
LAST = _words(
    "Chen Moreira Zaharia Stoica Dean Ghemawat LeCun Bengio Hinton Krizhevsky Sutskever He "
    "Vaswani Shazeer Parmar Uszkoreit Jones Gomez Kaiser Polosukhin Dao Fu Re Jia Wang Li Zheng "
    "Zhang Liu Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin Luo Gao Patterson Hennessy "
    "Olukotun Kozyrakis Mutlu Hill Wood Smith Johnson Williams Brown Miller Davis Garcia "
    "Rodriguez Martinez Lopez Hernandez Perez Sanchez Ramirez Torres Flores Rivera Gomez Diaz "
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Schmidt Schneider Fischer Weber Meyer "
    "Wagner Becker Hoffmann Koch Richter Klein Nielsen Hansen Andersen Larsen Virtanen Korhonen "
    "Tanaka Suzuki Takahashi Watanabe Ito Nakamura Kobayashi Kim Lee Park Choi Jung Kang Nguyen "
    "Tran Le Pham Ivanov Smirnov Kuznetsov Popov Petrov Hassan Ali Mohamed Mensah Okafor Silva "
    "Santos Oliveira Souza Pereira Costa Agrawal Gupta Sharma Singh Kumar Iyer Rao Reddy Narayanan "
    "Leskovec Liang Finn Levine Abbeel Jordan Recht Jaggi Lample Ott Goyal Dettmers Shoeybi"
)
LAST_LATEX = [
    'M{\\"u}ller',
    "Gonz{\\'a}lez",
    'Sch{\\"o}lkopf',
    "Dvo{\\v{r}}{\\'a}k",
    "Garc{\\'\\i}a",
    "Ng{\\^o}",
    "J{\\'e}gou",
    "Ca{\\~n}ete",
    "{\\O}stergaard",
    "Erd{\\H{o}}s",
    "de la Fuente",
    "van der Maaten",
    "{von Neumann}",
    "Müller",
    "Jégou",
]
ORGANISATIONS = [
    "{The {MLSys} Working Group}",
    "{Google Brain Team}",
    "{{OpenAI}}",
    "{{NVIDIA} Corporation}",
    "{{MLPerf} Consortium}",
]
ACRONYMS = _words(
    "TVM XLA GPU TPU CUDA MLIR DNN LLM RDMA FPGA SGD MoE KV RLHF ZeRO FSDP GNN SSD NVMe "
    "SIMD HBM PyTorch TensorFlow JAX Ray Spark MapReduce BERT ResNet Transformer"
)
ADJECTIVES = _words(
    "Efficient Scalable Distributed Automated Adaptive Fast Memory-Efficient Elastic Robust "
    "Learned Sparse Quantized Heterogeneous Fault-Tolerant Low-Latency High-Throughput "
    "Decentralized Energy-Aware Cost-Effective Serverless Speculative Lossless Incremental "
    "Federated Hierarchical Pipelined Asynchronous Compressed"
)
NOUNS = _words(
    "Training Inference Serving Scheduling Compilation Partitioning Caching Checkpointing "
    "Communication Quantization Pruning Offloading Batching Sharding Replication Placement "
    "Autotuning Profiling Allocation Prefetching Recomputation Attention Aggregation "
    "Retrieval Indexing Search Sampling Simulation Verification Recovery"
)
OBJECTS = _words(
    "Deep Neural Networks|Large Language Models|Recommendation Models|Graph Neural Networks|"
    "Mixture-of-Experts Models|Diffusion Models|Vision Transformers|Tensor Programs|"
    "Sparse Tensor Algebra|Dataflow Graphs|Heterogeneous Clusters|Edge Devices|"
    "Multi-Tenant GPU Clusters|Data Pipelines|Embedding Tables|Key-Value Caches|"
    "Reinforcement Learning|Federated Learning|Streaming Workloads|Vector Databases",
    "|",
)
STRINGS = {
    "osdi": "USENIX Symposium on Operating Systems Design and Implementation ({OSDI})",
    "sosp": "{ACM} Symposium on Operating Systems Principles ({SOSP})",
    "nsdi": "{USENIX} Symposium on Networked Systems Design and Implementation ({NSDI})",
    "mlsys": "Proceedings of Machine Learning and Systems ({MLSys})",
    "isca": "International Symposium on Computer Architecture ({ISCA})",
    "asplos": "Architectural Support for Programming Languages and Operating Systems ({ASPLOS})",
    "neurips": "Advances in Neural Information Processing Systems ({NeurIPS})",
    "icml": "International Conference on Machine Learning ({ICML})",
    "iclr": "International Conference on Learning Representations ({ICLR})",
    "proc": "Proceedings of the",
}
JOURNALS = [
    "Communications of the {ACM}",
    "{IEEE} Micro",
    "Journal of Machine Learning Research",
    "{ACM} Transactions on Computer Systems",
    "Proceedings of the {VLDB} Endowment",
    "{IEEE} Transactions on Parallel and Distributed Systems",
    "CoRR",
]
MONTHS = _words("jan feb mar apr may jun jul aug sep oct nov dec")
WORDS = _words(
    "we present a system that model training inference throughput latency memory GPU cluster "
    "workload scheduler compiler kernel operator graph tensor pipeline parallelism data "
    "communication overhead accuracy our approach achieves speedup over state-of-the-art "
    "baselines while reducing cost evaluation shows that design implementation runtime "
    "hardware accelerator scale batch request serving framework open-source production"
)


def _names(rng: random.Random, pool: list[tuple[str, str]], count: int) -> list[str]:
    """`count` distinct people: one in three from the first 2% of the pool (the prolific
    ones, who recur across the bibliography), the others from all of it."""
    prolific = max(1, len(pool) // 50)
    chosen: list[tuple[str, str]] = []
    while len(chosen) < count:
        person = pool[rng.randrange(prolific if rng.random() < 0.33 else len(pool))]
        if person not in chosen:
            chosen.append(person)
    return [
        f"{last}, {first}" if rng.random() < 0.35 else f"{first} {last}" for first, last in chosen
    ]


def _author_pool(rng: random.Random, size: int) -> list[tuple[str, str]]:
    """Distinct (first, last) pairs, the first ones (the most prolific) and the rest
    in random order; about one in twelve written with LaTeX accents."""
    pool, seen = [], set()
    while len(pool) < size:
        first = rng.choice(FIRST_LATEX) if rng.random() < 0.06 else rng.choice(FIRST)
        last = rng.choice(LAST_LATEX) if rng.random() < 0.05 else rng.choice(LAST)
        if rng.random() < 0.15:  # a middle initial makes the name space realistic
            first = f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}."
        if (first, last) not in seen:
            seen.add((first, last))
            pool.append((first, last))
    rng.shuffle(pool)
    return pool


def _title(rng: random.Random, used: set[str]) -> str:
    while True:
        shape = rng.random()
        adjective, noun, thing = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(OBJECTS)
        if shape < 0.45:
            name = rng.choice(ACRONYMS) + rng.choice(["", "-2", "Flow", "Opt", "Serve", "X"])
            title = f"{{{name}}}: {adjective} {noun} for {thing}"
        elif shape < 0.7:
            title = f"{adjective} {noun} of {thing} on {{{rng.choice(ACRONYMS)}}}s"
        elif shape < 0.8:
            title = f"Towards {adjective.lower()} {noun.lower()} --- a study of {thing.lower()}"
        elif shape < 0.87:
            title = f"{noun} {thing} in ${rng.choice(['O(n)', 'O(\\log n)', '\\sqrt{n}'])}$ time"
        else:
            title = f"{adjective} and {rng.choice(ADJECTIVES).lower()} {noun.lower()} for {thing}"
        title += rng.choice(
            ["", "", "", " at Scale", " in Practice", " with {GPU}s", " (Extended)"]
        )
        if title not in used:
            used.add(title)
            return title


def _abstract(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(80, 220))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), f"${rng.randint(2, 40)}\\times$")
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), "10--30\\%")
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def generate(entries: int, seed: int = 3) -> str:
    """An `entries`-entry bibliography (plus its @string and @proceedings blocks)."""
    rng = random.Random(seed)
    pool = _author_pool(rng, max(200, entries * 2))
    used_titles: set[str] = set()
    blocks = [
        "% Generated by bench/import_bibtex.py",
        "@comment{jabref-meta: databaseType:bibtex;}",
        '@preamble{"\\newcommand{\\noopsort}[1]{}"}',
    ]
    blocks += [f'@string{{{key} = "{value}"}}' for key, value in STRINGS.items()]
    proceedings = []
    for index in range(5):
        key = f"conf:proc{index}"
        year = 2015 + index
        blocks.append(
            f"@proceedings{{{key},\n  title = {{Proceedings of the {year} Workshop on "
            f"Systems for {{ML}}}},\n  year = {{{year}}},\n  publisher = {{{{ACM}}}},\n}}"
        )
        proceedings.append(key)
    written: list[dict] = []
    for n in range(entries):
        roll = rng.random()
        if written and roll < 0.01:
            # The same paper again under another key (a merged bibliography).
            again = dict(rng.choice(written))
            again["key"] = f"{again['key']}-dup{n}"
            blocks.append(_entry(rng, again))
            continue
        year = rng.randint(1995, 2025)
        count = min(20, max(1, int(rng.gammavariate(2.0, 2.2))))
        authors = _names(rng, pool, count)
        if rng.random() < 0.01:
            authors.insert(rng.randrange(len(authors) + 1), rng.choice(ORGANISATIONS))
        if rng.random() < 0.02:
            authors.append("others")
        title = _title(rng, used_titles)
        if written and roll < 0.015:
            # Same title and first author, a year later: a possible duplicate to flag.
            other = rng.choice(written)
            title, year = other["title"], (other["year"] or 2000) + 1
            authors = [other["authors"][0], *authors[1:]]
        entry = {
            "key": f"{_key_word(authors[0])}{year}n{n}",
            "title": title,
            "authors": authors,
            "year": year,
            "kind": rng.choices(
                ["inproceedings", "article", "misc", "techreport", "phdthesis"], [55, 25, 14, 4, 2]
            )[0],
            "doi": f"10.{rng.choice([1145, 1109, 14778, 48550])}/{n}.{rng.randint(1000, 99999)}"
            if rng.random() < 0.45
            else None,
            "eprint": f"{year % 100:02d}{rng.randint(1, 12):02d}.{n % 100_000:05d}"
            if year >= 2008 and rng.random() < 0.35
            else None,
            "abstract": _abstract(rng) if rng.random() < 0.3 else None,
            "month": rng.choice(MONTHS) if rng.random() < 0.5 else None,
            "macro": rng.choice(list(STRINGS)[:-1]),
            "journal": rng.choice(JOURNALS),
            "crossref": rng.choice(proceedings) if rng.random() < 0.005 else None,
            "pages": f"{rng.randint(1, 900)}--{rng.randint(901, 1800)}",
            "volume": rng.randint(1, 60),
            "dblp": rng.random() < 0.6,
        }
        if entry["doi"] and entry["doi"].startswith("10.48550/"):
            entry["doi"] = entry["doi"].replace("10.48550/", "10.5555/")
        written.append(entry)
        blocks.append(_entry(rng, entry))
    return "\n\n".join(blocks) + "\n"


def _key_word(name: str) -> str:
    family = name.split(",")[0].split()[-1] if name.split() else "anon"
    return re.sub(r"[^a-z]", "", family.lower()) or "anon"


def _entry(rng: random.Random, e: dict) -> str:
    lines = [f"@{e['kind']}{{{e['key']},"]
    author_text = " and\n    ".join(e["authors"])
    lines.append(f"  author = {{{author_text}}},")
    lines.append(f"  title = {{{e['title']}}},")
    if e["crossref"]:
        lines.append(f"  crossref = {{{e['crossref']}}},")
    elif e["kind"] == "inproceedings":
        if rng.random() < 0.5:
            lines.append(f"  booktitle = proc # {{ 35th }} # {e['macro']},")
        else:
            lines.append(f"  booktitle = {e['macro']},")
    elif e["kind"] == "article":
        lines.append(f"  journal = {{{e['journal']}}},")
        lines.append(f"  volume = {{{e['volume']}}},")
    elif e["kind"] == "techreport":
        lines.append("  institution = {University of California, Berkeley},")
    elif e["kind"] == "phdthesis":
        lines.append("  school = {Carnegie Mellon University},")
    if not e["crossref"]:
        lines.append(f"  year = {{{e['year']}}},")
    if e["month"]:
        lines.append(f"  month = {e['month']},")
    lines.append(f"  pages = {{{e['pages']}}},")
    if e["doi"]:
        lines.append(f"  doi = {{{e['doi']}}},")
        lines.append(f"  url = {{https://doi.org/{e['doi']}}},")
    if e["eprint"]:
        lines.append(f"  eprint = {{{e['eprint']}}},")
        lines.append("  archivePrefix = {arXiv},")
        lines.append("  primaryClass = {cs.LG},")
    if e["abstract"]:
        lines.append(f"  abstract = {{{e['abstract']}}},")
    if e["dblp"]:
        lines.append("  timestamp = {Mon, 03 Jan 2022 10:00:00 +0100},")
        lines.append(f"  biburl = {{https://dblp.org/rec/conf/x/{e['key']}.bib}},")
        lines.append("  bibsource = {dblp computer science bibliography, https://dblp.org},")
    lines.append("}")
    return "\n".join(lines)


# -- the measured work, each in its own process ---------------------------------------


def _peak_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def worker(mode: str, path: Path) -> dict:
    """Run one measurement in this (fresh) process and return its figures."""
    import gc

    sys.path.insert(0, str(ROOT))
    import bibtexparser
    import django

    django.setup()
    from papers import services

    data = path.read_bytes()
    if mode == "parse":
        text = data.decode("utf-8")
        gc.collect()
        baseline = _peak_kb()
        started = time.perf_counter()
        library = bibtexparser.parse_string(text)
        seconds = time.perf_counter() - started
        peak = _peak_kb()
        return {
            "seconds": seconds,
            "memory_kb": peak - baseline,
            "baseline_kb": baseline,
            "entries": len(library.entries),
            "failed": len(library.failed_blocks),
        }
    gc.collect()
    before = _digest() if mode == "reimport" else None
    gc.collect()
    baseline = _peak_kb()
    started = time.perf_counter()
    # What `manage.py import_bibtex FILE` does, minus printing the report.
    parsed = services.parse_bibtex_upload(data=data, filename=path.name)
    read = time.perf_counter()
    job = services.create_bibtex_run(parsed=parsed, filename=path.name)
    created = time.perf_counter()
    del parsed
    job = services.import_now(job=job)
    seconds = time.perf_counter() - started
    peak = _peak_kb()
    figures = {
        "seconds": seconds,
        "phases": {
            "parse_bibtex": read - started,
            "create_bibtex_run": created - read,
            "import_now": seconds - (created - started),
        },
        "memory_kb": peak - baseline,
        "baseline_kb": baseline,
        "status": job.status,
        "error": job.error,
        "counts": {
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "duplicate": job.duplicate_count,
            "possible_duplicate": job.possible_duplicate_count,
            "failed": job.failed_count,
        },
    }
    if mode == "reimport":
        figures["unchanged_catalog"] = _digest() == before
    else:
        figures["catalog"] = _catalog_counts()
    return figures


def _catalog_counts() -> dict:
    from papers.models import Author, Authorship, Paper, PossibleDuplicate

    return {
        "papers": Paper.objects.count(),
        "authors": Author.objects.count(),
        "authorships": Authorship.objects.count(),
        "flags": PossibleDuplicate.objects.count(),
    }


def _digest() -> str:
    """A hash of every catalog row (updated_at included: a save changes it)."""
    import hashlib

    from papers.models import Author, Authorship, Paper, PossibleDuplicate

    digest = hashlib.sha256()
    for model in (Paper, Author, Authorship, PossibleDuplicate):
        names = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*names).iterator(chunk_size=5000):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _empty_catalog(*, check: bool) -> None:
    """Delete what a round imported (or, with check, refuse a catalog that has papers)."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from papers.models import Author, ImportJob, Paper, PossibleDuplicate

    if check:
        if Paper.objects.exists() or Author.objects.exists():
            raise SystemExit(
                "the database's catalog is not empty: point DATABASE_URL at a scratch database "
                "(or unset it for a fresh PostgreSQL one)"
            )
        return
    # Plain SQL, not delete(): no signal per row; on PostgreSQL TRUNCATE, which also
    # leaves no dead rows for the next round to scan. The catalog was empty before the
    # first round, so nothing else is lost.
    from django.db import connection

    from papers.models import Authorship

    models = [PossibleDuplicate, Authorship, Paper.topics.through, Paper, Author, ImportJob]
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


# -- the driver ---------------------------------------------------------------------


def _run_worker(mode: str, path: Path, env: dict) -> dict:
    out = subprocess.run(
        [str(PYTHON), __file__, "--worker", mode, "--file", str(path)],
        cwd=ROOT, env=env, check=True, text=True, stdout=subprocess.PIPE,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def _recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def _phases(figures: dict) -> str:
    return " + ".join(f"{name} {seconds:.2f}" for name, seconds in figures["phases"].items())


def _mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries in the file")
    parser.add_argument("--rounds", type=int, default=1, help="repeat and report medians")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep-file", metavar="PATH", help="also write the generated file here")
    parser.add_argument("--worker", choices=["parse", "import", "reimport", "empty", "check"])
    parser.add_argument("--file", type=Path)
    options = parser.parse_args()
    if options.worker in ("empty", "check"):
        _empty_catalog(check=options.worker == "check")
        return 0
    if options.worker:
        print(json.dumps(worker(options.worker, options.file)))
        return 0

    own_database = not os.environ.get("DATABASE_URL")
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"{PG}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "mlsys_reader.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "DEBUG": "false",
        "HTTPS": "false",
        "TASKS_BACKEND": "immediate",
        "LOG_LEVEL": "WARNING",
        "BIBTEX_MAX_BYTES": str(1024 * 1024 * 1024),
    }
    database = env["DATABASE_URL"].split("@")[-1]
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        path = Path(tmp) / f"bench-{options.entries}.bib"
        started = time.perf_counter()
        text = generate(options.entries, seed=options.seed)
        path.write_text(text, encoding="utf-8")
        if options.keep_file:
            Path(options.keep_file).write_text(text, encoding="utf-8")
        print(
            f"generated {options.entries:,} entries ({len(text.encode()) / 1e6:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        del text
        if own_database:
            print(f"database: fresh {database} (created now, dropped at the end)")
            _recreate_database()
        else:
            print(f"database: {database} (DATABASE_URL)")
        try:
            subprocess.run(
                [str(PYTHON), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
            )
            _run_worker_plain("check", path, env)
            rounds = []
            for number in range(options.rounds):
                if number:
                    _run_worker_plain("empty", path, env)
                parse = _run_worker("parse", path, env)
                full = _run_worker("import", path, env)
                again = _run_worker("reimport", path, env)
                rounds.append((parse, full, again))
                print(
                    f"round {number + 1}: parse {parse['seconds']:.2f} s, import "
                    f"{full['seconds']:.2f} s ({_phases(full)}), re-import "
                    f"{again['seconds']:.2f} s ({_phases(again)}); peak memory "
                    f"{_mb(parse['memory_kb'])}, {_mb(full['memory_kb'])}, "
                    f"{_mb(again['memory_kb'])}"
                )
        finally:
            if own_database:
                _recreate_database(drop_only=True)
    return report(rounds)


def _run_worker_plain(mode: str, path: Path, env: dict) -> None:
    subprocess.run(
        [str(PYTHON), __file__, "--worker", mode, "--file", str(path)],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip


def report(rounds: list[tuple[dict, dict, dict]]) -> int:
    def median(index: int, name: str) -> float:
        return statistics.median(r[index][name] for r in rounds)

    parse, full = rounds[-1][0], rounds[-1][1]
    print(
        f"\nparsed {parse['entries']:,} entries ({parse['failed']} failed blocks); import: "
        + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in full["counts"].items())
    )
    print(
        "catalog after the import: "
        + ", ".join(f"{count:,} {name}" for name, count in full["catalog"].items())
    )
    times = [median(i, "seconds") for i in range(3)]
    memory = [median(i, "memory_kb") for i in range(3)]
    label = f"(median of {len(rounds)} rounds)" if len(rounds) > 1 else "(1 round)"
    print(f"\n{label:32} {'time':>9} {'ratio':>7} {'peak memory':>12} {'ratio':>7}")
    names = [
        "bibtexparser.parse_string alone",
        "full import (empty catalog)",
        "re-import (same file)",
    ]
    for name, seconds, kb in zip(names, times, memory, strict=True):
        print(
            f"{name:32} {seconds:8.2f}s {seconds / times[0]:6.2f}x {_mb(kb):>12} "
            f"{kb / memory[0]:6.2f}x"
        )
    print(
        "\nmemory: growth of the peak resident set (getrusage ru_maxrss) over its value just "
        "before the measured call, each in a fresh process"
    )
    failures = []
    time_ratio, memory_ratio = times[1] / times[0], memory[1] / memory[0]
    verdict = "meets" if time_ratio <= TIME_GOAL else "MISSES"
    print(f"time:   import / parse = {time_ratio:.2f}x: {verdict} the {TIME_GOAL:g}x goal")
    if time_ratio > TIME_GOAL:
        failures.append("time")
    verdict = "meets" if memory_ratio <= MEMORY_GOAL else "MISSES"
    print(f"memory: import / parse = {memory_ratio:.2f}x: {verdict} the {MEMORY_GOAL:g}x goal")
    if memory_ratio > MEMORY_GOAL:
        failures.append("memory")
    unchanged = True
    for _, full_, again in rounds:
        changed = again["counts"]["created"] + again["counts"]["updated"]
        changed += again["counts"]["possible_duplicate"]
        if full_["status"] != "done" or again["status"] != "done":
            failures.append("job failed")
            print(f"a job failed: {full_['error'] or again['error']}")
        if changed or not again["unchanged_catalog"]:
            unchanged = False
            failures.append("re-import")
            print(f"re-import: CHANGED the catalog: {again['counts']}")
    if unchanged:
        counts = rounds[-1][2]["counts"]
        print(
            f"re-import: nothing changed ({counts['unchanged']} unchanged, "
            f"{counts['duplicate']} repeats of an earlier entry; catalog digest identical)"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
