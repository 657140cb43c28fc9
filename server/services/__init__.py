"""Domain logic, one module per capability. No Flask request objects in here:
the CLI, the REST API and the socket handlers all call these functions."""
