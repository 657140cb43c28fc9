"""Drafts open for comment and the compiled comment report (issue 17).

- ``comment_periods``: open a document version for comments, with a deadline and an audience;
  who may see and comment on it.
- ``comments``: a delegate's comments, anchored to a page, a region and the text there.
- ``compilation``: the drafting office merges duplicates, answers each comment, publishes.
- ``report``: the compiled report's rows, shared by both exports.
- ``report_pdf``: the report as a PDF in the Vietnamese administrative layout.
- ``report_sheet``: the report as a spreadsheet (.xlsx), formula injection neutralised.

Callers import the modules: ``from server.services.drafts import comments``.
"""
