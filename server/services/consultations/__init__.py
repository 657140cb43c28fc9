"""Written consultations between sessions (xin ý kiến). Lower modules first.

- ``notices``: live notices (opened, changed, answered, closed), broadcast after commit.
- ``asking``: putting a question to members (create), finding one, who may see it.
- ``answering``: a member's answer, refused after the deadline, when changing is not
  allowed, or from a non-member, with nothing changed.
- ``closing``: closing (on time, early, or when everyone answered) and the tally by the
  same rules engine as polls (``server.services.voting.tally``).
- ``reminding``: a reminder to the members who have not answered (live, audited; no email).

Callers import the modules: ``from server.services.consultations import answering``.
"""
