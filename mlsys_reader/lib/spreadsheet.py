"""CSV cells a spreadsheet will not run: the exports are opened in Excel and Sheets."""

import datetime

# A cell that starts with one of these is a formula to a spreadsheet (CSV injection):
# names, titles and answers are typed by other people, metadata comes from outside.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """The value as CSV text: dates in ISO form, booleans as yes/no, None as empty,
    text that a spreadsheet would take for a formula behind a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
