import datetime

from django.test import SimpleTestCase

from mlsys_reader.lib.spreadsheet import cell


class CellTests(SimpleTestCase):
    def test_formulas_are_made_text_and_values_written_plainly(self):
        self.assertEqual(
            [
                cell(v)
                for v in (
                    "=HYPERLINK(1)",
                    "+1",
                    "-1",
                    "@SUM(A1)",
                    "\t=1",
                    "\r=1",
                    "a=1",
                    None,
                    True,
                    3,
                    datetime.date(2022, 2, 16),
                    datetime.datetime(2022, 2, 16, 15, 5, 42, tzinfo=datetime.UTC),
                )
            ],
            [
                "'=HYPERLINK(1)",
                "'+1",
                "'-1",
                "'@SUM(A1)",
                "'\t=1",
                "'\r=1",
                "a=1",
                "",
                "yes",
                "3",
                "2022-02-16",
                "2022-02-16T15:05+00:00",
            ],
        )
