"""The authentication backend: Django's ModelBackend, with a cheaper user load.

`get_user` runs on every logged-in request, and building an ORM query costs several
times the database round trip itself. So the user is read with one plain SQL statement
(prepared by PostgreSQL after its first uses), its values passed through the same
database converters the ORM applies, and turned into a model with Model.from_db.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router

from accounts.models import User

_FIELDS = User._meta.concrete_fields
_NAMES = [field.attname for field in _FIELDS]
_TABLE = User._meta.db_table


def _load(user_id):
    using = router.db_for_read(User)
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(_TABLE)} WHERE {quote(User._meta.pk.column)} = %s",  # noqa: S608
            [user_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for field, value in zip(_FIELDS, row, strict=True):
        column = field.get_col(_TABLE)
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            value = converter(value, column, connection)
        values.append(value)
    return User.from_db(using, _NAMES, values)


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = _load(pk)
        return user if user is not None and self.user_can_authenticate(user) else None
