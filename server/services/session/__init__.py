"""Running a session in the room.

- ``session``: open, pause, resume, adjourn; the current agenda item and its timer.
- ``floor``: requests to speak, granting, reordering, ending speeches.
- ``attendance``: check-in, tablet presence, the secretary's marks, quorum.
- ``announcements``: the secretary's messages to tablets and the projector.

Callers import the modules: ``from server.services.session import session``.
"""
