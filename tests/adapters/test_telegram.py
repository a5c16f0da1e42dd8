"""Transitional: moved to ``tests/adapters/telegram/test_telegram.py``. Kept only for importers outside
this change (``tests/bot/test_logs.py``); holds no tests; delete once they import the new path."""

from tests.adapters.telegram.test_telegram import SECRET as SECRET
from tests.adapters.telegram.test_telegram import TOKEN as TOKEN
from tests.adapters.telegram.test_telegram import start as start
