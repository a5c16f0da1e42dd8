"""Transitional: the staff web channel moved to ``adapters.web.staffweb``. Kept only for importers
outside this change (``bot/staff_auth.py``); delete once they import the new path."""

from adapters.web.staffweb import StaffAuth as StaffAuth
from adapters.web.staffweb import StaffSignIn as StaffSignIn
