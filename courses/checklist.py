"""The how-to-read-a-paper checklist every review answers.

The questions come from courses/data/review_checklist.json (the course's own checklist);
the hints are ours, to help a first-year student answer each question well.
"""

import json
from dataclasses import dataclass
from pathlib import Path

_DATA = json.loads((Path(__file__).parent / "data" / "review_checklist.json").read_text())

HINTS = {
    "high_level_idea": "Two or three sentences a classmate could repeat from memory.",
    "problem": "The concrete problem, in the paper's setting (hardware, scale, workload).",
    "motivation": "Who suffers from the problem today, and how much does it cost them?",
    "prior_work_gap": "Name the closest prior systems and the assumption that breaks them.",
    "key_techniques": "The mechanisms, not the marketing: what does the system actually do?",
    "novelty": "What is new here, as opposed to a careful combination of known ideas?",
    "evaluation": "Baselines, hardware and scale, end-to-end vs micro-benchmarks, variance.",
    "impact": "Would practitioners adopt it? What would have to be true for that?",
    "limitations": "Where does it stop working: workloads, scale, assumptions, costs.",
    "improvements": "One or two concrete next steps, and how you would evaluate them.",
}

MAX_ANSWER_CHARS = 20_000


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    hint: str


@dataclass(frozen=True)
class Rating:
    field: str  # Review model field
    label: str
    minimum: int
    maximum: int


QUESTIONS = tuple(
    Question(key=s["key"], text=s["question"], hint=HINTS.get(s["key"], ""))
    for s in _DATA["sections"]
)
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)

_rating_of = {s["key"]: s["rating"] for s in _DATA["sections"] if "rating" in s}
RATINGS = (
    Rating("evaluation_rating", _rating_of["evaluation"]["label"], 1, 5),
    Rating("impact_rating", _rating_of["impact"]["label"], 1, 5),
    Rating("overall_rating", _DATA["overall"]["rating"]["label"], 1, 5),
    Rating("confidence", _DATA["overall"]["confidence"]["label"], 1, 5),
)
RATING_FIELDS = tuple(r.field for r in RATINGS)
