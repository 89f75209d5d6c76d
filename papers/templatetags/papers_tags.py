from django import template

register = template.Library()


@register.filter
def author_names(paper, limit=0):
    """'A, B and C' from a paper's prefetched authors; with a limit, 'A, B, C et al.'."""
    names = [author.name for author in paper.ordered_authors]
    if paper.more_authors:
        names.append("others")
    limit = int(limit or 0)
    if limit and len(names) > limit:
        return ", ".join(names[:limit]) + " et al."
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
