"""Monitoring: what Prometheus scrapes and what the admin system page shows.

- ``metrics``: the counters and histograms the code updates as it works (no Flask).
- ``page``: ``/metrics``, with the gauges measured at every scrape.
"""
