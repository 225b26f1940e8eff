"""gunicorn hooks for ``bin/run``'s threaded (gthread) server, given to it as
``--config python:config.gunicorn_local``.

Ctrl-C sends SIGINT, gunicorn's quick shutdown. A gthread worker still took up to five seconds
to stop, and was sometimes SIGKILLed by the master at its graceful timeout with a misleading
"Perhaps out of memory?": a connection the browser opened ahead of need (Chromium preconnects)
holds a pool thread waiting up to five seconds for a first request, and the interpreter joins
the pool's threads on exit. A quick shutdown drops in-flight requests anyway, so the worker
leaves at once. A graceful stop (SIGTERM) is untouched and still finishes its requests.
"""

from __future__ import annotations

import os
from typing import Any


def worker_int(worker: Any) -> None:
    """Called in the worker on SIGINT or SIGQUIT, before gunicorn's own ``sys.exit``."""
    worker.log.info("Worker quitting at once (pid: %s)", worker.pid)
    os._exit(0)
