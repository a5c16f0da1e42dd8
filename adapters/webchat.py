"""Transitional: the web chat channel moved to ``adapters.web.webchat``. Kept only for importers
outside this change (``tests/tickets/test_workflow.py``); delete once they import the new path."""

from adapters.web.webchat import WebchatChannel as WebchatChannel
