"""Storage failures that are worth retrying: a full disk, an S3 endpoint that errors."""

from __future__ import annotations

STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError,)
try:  # botocore comes with django-storages[s3]; the filesystem backend never raises these
    from botocore.exceptions import BotoCoreError, ClientError

    STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
except ImportError:  # pragma: no cover
    pass

STORAGE_UNAVAILABLE = (
    "Storage is unavailable right now, so this file was not saved. Nothing else was lost: "
    "try this file again in a moment."
)
