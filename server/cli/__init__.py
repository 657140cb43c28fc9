"""The ``hemicycle`` command.

The async library is chosen and monkey-patched here, before anything else is
imported, as eventlet and gevent require.
"""
from __future__ import annotations

import os
import sys

SERVING_COMMANDS = {"serve", "demo"}


def _prepare_async_mode(argv: list[str]) -> None:
    if not SERVING_COMMANDS.intersection(argv[1:2]):
        # One-shot commands never serve sockets: keep eventlet out of them.
        os.environ["HEMICYCLE_ASYNC_MODE"] = "threading"
        return
    mode = os.environ.get("HEMICYCLE_ASYNC_MODE") or "eventlet"
    if mode == "eventlet":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eventlet announces its own deprecation
            import eventlet

        eventlet.monkey_patch()
    elif mode == "gevent":
        try:
            from gevent import monkey
        except ImportError:
            sys.exit("HEMICYCLE_ASYNC_MODE=gevent needs gevent: pip install 'hemicycle[gevent]'")
        monkey.patch_all()


def main() -> None:
    _prepare_async_mode(sys.argv)
    from server.cli.commands import cli

    cli(prog_name="hemicycle")
