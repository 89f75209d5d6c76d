"""Django's database sessions, loaded with one plain SQL statement.

Identical in behaviour to django.contrib.sessions.backends.db (same table, same
expiry rule, same invalidation on logout), but every logged-in request loads its
session, and the ORM's query building costs several times the round trip itself.
Configured by SESSION_ENGINE = "mlsys_reader.lib.sessions".
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    def load(self):
        if not self.session_key:
            return {}
        model = self.model
        connection = connections[router.db_for_read(model)]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {model._meta.db_table} "  # noqa: S608 - our table
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
