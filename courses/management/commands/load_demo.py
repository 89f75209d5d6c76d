"""`manage.py load_demo [--with-accounts]`: the demo papers and courses (courses/demo.py)."""

from django.core.management.base import BaseCommand, CommandError

from courses.demo import DemoDataError, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo papers and courses (idempotent: a rerun changes nothing). "
        "--with-accounts also creates demo logins, on a development machine only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-accounts",
            action="store_true",
            help="Also create a demo student, instructor, TA and admin (DEBUG only: "
            "their passwords are published).",
        )

    def handle(self, *args, with_accounts=False, **options):
        try:
            summary = load_demo(with_accounts=with_accounts)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(summary.line())
        self.stdout.write(f"this run: {summary.created} rows created, {summary.updated} updated")
        if summary.logins:
            self.stdout.write("demo logins (e-mail / password):")
            for login in summary.logins:
                kept = "" if login.created else " [existing account, password not reset]"
                self.stdout.write(
                    f"  {login.email} / {login.password}  ({login.description}){kept}"
                )
