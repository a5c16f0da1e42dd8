"""The console's web pages (``/console``): sign-in, the desk, the ticket page, the scorecard, 督办
(``/console/supervision``) and hot topics (``/console/hot``).

Server-rendered with aiohttp-jinja2; htmx (vendored in ``static/``, with its licence) swaps parts
of a page. Everything here is HTTP and presentation: the queue, the scorecard and the exports come
from ``tickets.console``, the actions from ``tickets.staff_desk.StaffDesk.perform`` (the same path as
the chat commands, so the same rules and the same audit). ``bot.wire_console`` builds it.
"""
