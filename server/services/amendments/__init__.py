"""Draft texts with stable line numbers and the amendments tabled to them (issue 17).

- ``texts``: enter a draft as text on an agenda item; its numbered lines; who sees it.
- ``tabling``: a delegate (with co-signers) tables an amendment; the mover withdraws it;
  the chair or secretary admits it or not and orders the queue.
- ``adoption``: each amendment and then the whole draft put to the vote through an
  ordinary poll; the outcome read from the published result; the adopted text
  assembled from the adopted amendments, and the differences as insertions and deletions.
- ``views``: what the API, the pages and the live events show of a draft.

Callers import the modules: ``from server.services.amendments import tabling``.
"""
