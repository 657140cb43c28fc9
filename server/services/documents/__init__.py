"""Meeting documents, from upload to the pages a tablet shows.

- ``documents``: upload, versions, settings, removal, pushing and presenting.
- ``ingest``: from an uploaded file to a validated, stored PDF.
- ``access``: who may read which document, and in what form.
- ``pages``: page images (clean or watermarked), text and the PDF; background rendering.
- ``ocr``: text for scanned pages, read in the background after rendering.
- ``search``: find words in the meeting's documents (the tablet's find).
- ``storage``: content-addressed blob storage, safe upload names.
- ``annotations``: a delegate's ink, highlights and notes, as vectors.
- ``leaks``: naming the reader of a leaked page image from its invisible mark.

Callers import the modules: ``from server.services.documents import documents``.
"""
