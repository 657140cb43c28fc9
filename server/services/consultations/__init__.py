"""Written consultations between sessions (xin ý kiến). Lower modules first.

- ``notices``: live notices (opened, changed, answered, closed), broadcast after commit.
- ``asking``: putting a question to members (create), finding one, who may see it.
- ``answering``: a member's answer, refused after the deadline, when changing is not
  allowed, or from a non-member, with nothing changed.
- ``closing``: closing (on time, early, or when everyone answered) and the tally by the
  same rules engine as polls (``server.services.voting.tally``).
- ``emailing``: the emails to members asked and reminded, written in the transaction and
  sent after its commit (``server.services.mail``); the outcome per member audited.
- ``reminding``: a reminder to the members who have not answered (live, audited) and, where
  SMTP is configured, by email.

Callers import the modules: ``from server.services.consultations import answering``.
"""
