"""The domain side of the staff and supervisor console (``/console``, issue #15).

What the web pages call (read-only queries; the actions are the same functions the chat commands
call, in ``tickets.staff_actions`` and ``tickets.routing``, checked by ``tickets.staff_desk``'s
rules: ``staff_actions.authorize`` before any of them):

* ``tickets.console.queue``: ``find_tickets(session, viewer=, filt=QueueFilter(...), now=, tz=)``
  -> ``QueuePage`` of ``QueueRow`` (the desk and every "tickets behind this figure" list).
* ``tickets.console.scorecard``: ``scorecard(session, start=, end=, tz=, by=GroupBy.DEPARTMENT)``
  -> ``Scorecard`` of ``ScoreRow``; each ``Figure`` has ``numerator``/``denominator`` and
  ``behind(session, ...)`` lists the ticket numbers behind it; ``ScoreRow.tallies`` the counts
  (重复诉求, 督办 steps), ``tally_behind`` their tickets.
* ``tickets.console.export``: ``tickets_csv`` / ``tickets_xlsx`` / ``scorecard_csv`` /
  ``scorecard_xlsx``: bytes to send as a download.
* ``tickets.console.supervision``: ``supervision(flow, session, viewer=, now=)`` -> the 督办 list
  with each ticket's cards (since when, why); clearing is ``StaffDesk.perform`` (解除督办).
* ``tickets.console.operations``: ``undelivered(session, viewer=)`` dead and held pushes,
  ``department_load(session, now=)`` open and overdue per department (the /metrics gauges).
"""
