"""Transitional: moved to ``tests/adapters/web/test_webchat.py``. Kept only for importers outside
this change (``tests/bot/test_model_loading.py``); holds no tests; delete once they import the new path."""

from tests.adapters.web.test_webchat import say as say
from tests.adapters.web.test_webchat import tap as tap
