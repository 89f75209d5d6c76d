import datetime

from django.contrib.sessions.models import Session
from django.test import TestCase
from django.utils import timezone

from mlsys_reader.lib.sessions import SessionStore


class SessionStoreTests(TestCase):
    def test_saved_session_loads_back(self):
        store = SessionStore()
        store["answer"] = 42
        store.create()
        self.assertEqual(SessionStore(session_key=store.session_key).load(), {"answer": 42})

    def test_expired_session_is_not_loaded(self):
        store = SessionStore()
        store["answer"] = 42
        store.create()
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() - datetime.timedelta(seconds=1)
        )
        reloaded = SessionStore(session_key=store.session_key)
        self.assertEqual(reloaded.load(), {})
        self.assertIsNone(reloaded.session_key)

    def test_unknown_and_missing_keys_load_nothing(self):
        self.assertEqual(SessionStore(session_key="x" * 32).load(), {})
        self.assertEqual(SessionStore().load(), {})

    def test_deleted_session_no_longer_loads(self):
        store = SessionStore()
        store["answer"] = 42
        store.create()
        store.delete()
        self.assertEqual(SessionStore(session_key=store.session_key).load(), {})
