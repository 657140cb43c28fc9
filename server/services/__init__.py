"""Domain logic: capability packages (accounts, meetings, session, documents, voting, devices,
minutes, archive) over a small core (actors, access, audit, events, tokens, timestamps). No
Flask request objects in here: the CLI, the REST API and the socket handlers all call these
functions. docs/ARCHITECTURE.md has the map; tests/test_import_graph.py keeps it free of
import circles."""
