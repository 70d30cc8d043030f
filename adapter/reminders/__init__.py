"""Deadlines brought to where people look (issue 18): a calendar feed and a daily e-mail digest.

- :mod:`adapter.reminders.facts`: what is open, due, overdue or stuck in one LA, read with the
  same queries as ``GET /deadlines`` and ``GET /deliveries``, named by references only;
- :mod:`adapter.reminders.ics`: those deadlines as an iCalendar feed (the ``icalendar`` package);
- :mod:`adapter.reminders.digest`: the morning e-mail's text;
- :mod:`adapter.reminders.mailer`: the digest's own SMTP settings and ``smtplib`` sending;
- :mod:`adapter.reminders.runs`: one digest per LA per London day, claimed in the database.
"""
