"""The authentication backend: Django's ModelBackend, with a cheaper user load.

`get_user` runs on every logged-in request; building the ORM query costs several times
the database round trip, so the user is read with one plain SQL statement and turned
into a model instance by a raw queryset, which applies the database converters
exactly as the ORM does.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from accounts.models import User

_FIELDS = [field.attname for field in User._meta.concrete_fields]
_SQL = (
    f"SELECT {', '.join(f'"{name}"' for name in _FIELDS)} "  # noqa: S608 - our columns
    f'FROM "{User._meta.db_table}" WHERE "{User._meta.pk.column}" = %s'
)


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        users = list(User._default_manager.raw(_SQL, [pk]))
        if not users:
            return None
        return users[0] if self.user_can_authenticate(users[0]) else None
