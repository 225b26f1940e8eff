"""Test settings: the real settings module with a throw-away var/ and an in-memory broker.

No global eager mode: tasks are called as functions, dispatch is asserted with
captureOnCommitCallbacks, and the live suite runs a real worker against Redis.
"""

import os
import tempfile

os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("DRAFTROOM_VAR_DIR", tempfile.mkdtemp(prefix="draftroom-test-"))

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the browser tests' live server answers requests on several threads,
    # and a shared in-memory connection cannot run two statements at once.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["DRAFTROOM_VAR_DIR"], "test.sqlite3")
    }
