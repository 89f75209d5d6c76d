import pytest
from django.core.cache import cache

from courses.schedule_cache import SHELLS


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached schedules must never leak from one
    test's data into another's (primary keys are reused after a rollback)."""
    cache.clear()
    SHELLS.clear()
    yield
    cache.clear()
    SHELLS.clear()
