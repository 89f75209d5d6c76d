"""Markdown for review answers, rendered safely.

Students write Markdown; we render it with Python-Markdown and then sanitise the HTML
with nh3 (Ammonia), which removes scripts, event handlers and `javascript:` links.
Inline maths `$...$` is shielded from Markdown so that `$a_i * b_j$` stays readable
instead of turning into emphasis.
"""

import re
import secrets

import markdown as markdown_lib
import nh3
from django.utils.html import escape
from django.utils.safestring import mark_safe

_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)")

_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}}
# Only the class the math markup needs: a student's answer must not take the site's own
# classes (an error message, a hidden block) on classmates' screens.
_CLASSES = {"span": {"math"}}


def render_markdown(text: str) -> str:
    """Safe HTML for a student's Markdown answer."""
    if not text:
        return ""
    marker = secrets.token_hex(8)
    spans: list[str] = []

    def shield(match):
        spans.append(match.group(1))
        return f"MATHSPAN{marker}{len(spans) - 1}END"

    shielded = _MATH.sub(shield, text)
    html = markdown_lib.markdown(shielded, extensions=["fenced_code", "tables", "sane_lists"])
    for index, formula in enumerate(spans):
        html = html.replace(
            f"MATHSPAN{marker}{index}END", f'<span class="math">${escape(formula)}$</span>'
        )
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text or ""))
