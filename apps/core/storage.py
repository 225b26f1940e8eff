"""Writing files whole, and the storage failures that are worth retrying.

Django's ``FileSystemStorage.save`` writes straight to the final path: a worker killed half-way
leaves a truncated file under the real key, and every "store it unless it exists" after that
reuses the truncated file. ``storage_put`` writes a part file and renames it to the key, so a
key holds a complete file or nothing; the sweeper deletes part files a killed writer left.
Object stores (S3) show an object only once its upload completed, so there a plain save already
is all-or-nothing.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid
from datetime import timedelta
from typing import IO

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.utils import timezone

STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError,)
# The object store could not be reached or dropped the connection (stopped, restarting, a
# network fault): worth handing the job back to the queue, unlike a refusal from a store that
# answered (a missing key, access denied), which a retry would only repeat.
STORAGE_OUTAGE: tuple[type[BaseException], ...] = ()
try:  # botocore comes with django-storages[s3]; the filesystem backend never raises these
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
    # EndpointConnectionError and ConnectTimeoutError are connection errors;
    # ConnectionClosedError and ReadTimeoutError are HTTP client errors.
    STORAGE_OUTAGE = (BotoConnectionError, HTTPClientError)
    # A download whose stream kept breaking (s3transfer retried it and gave up).
    from s3transfer.exceptions import RetriesExceededError

    STORAGE_OUTAGE = (*STORAGE_OUTAGE, RetriesExceededError)
except ImportError:  # pragma: no cover
    pass
# What a job handed back to the queue for a storage outage tells the person.
STORAGE_RETRYING = "Storage unavailable, retrying: {exc}"

STORAGE_UNAVAILABLE = (
    "Storage is unavailable right now, so this file was not saved. Nothing else was lost: "
    "try this file again in a moment."
)

# Part files are written in one folder beside the store's contents (the same filesystem, so the
# rename that publishes one is atomic) and renamed to their key once complete.
PARTS_DIR = ".parts"
PART_PREFIX = ".part-"


def storage_put(
    key: str,
    content: bytes | IO[bytes] | File,
    *,
    keep_existing: bool = False,
    storage: Storage | None = None,
) -> str:
    """Store ``content`` under exactly ``key``, complete or not at all, replacing what was there
    (or, with ``keep_existing``, leaving an existing file alone: keys named by a content hash).
    Returns the key."""
    storage = storage or default_storage
    if keep_existing and storage.exists(key):
        return key
    if isinstance(content, bytes):
        content = ContentFile(content)
    elif not isinstance(content, File):
        content = File(content, name=posixpath.basename(key))
    try:
        final_path = storage.path(key)
    except NotImplementedError:
        if storage.exists(key):
            storage.delete(key)  # so the backend cannot pick another name for it
        return storage.save(key, content)
    tail = posixpath.basename(key)[-80:]
    temp_name = posixpath.join(PARTS_DIR, f"{PART_PREFIX}{uuid.uuid4().hex}-{tail}")
    try:
        temp_name = storage.save(temp_name, content)
        os.makedirs(os.path.dirname(final_path), exist_ok=True)
        os.replace(storage.path(temp_name), final_path)  # atomic on one filesystem
    except BaseException:
        _discard(storage, temp_name)
        raise
    return key


def storage_parts_sweep(
    *, older_than: timedelta = timedelta(hours=6), storage: Storage | None = None
) -> int:
    """Delete part files a killed writer left behind (they were never published). All of them
    live in one folder, so this lists one folder however large the store is."""
    storage = storage or default_storage
    try:
        storage.path(PARTS_DIR)
    except NotImplementedError:
        return 0  # object stores leave no parts
    if not storage.exists(PARTS_DIR):
        return 0
    cutoff = timezone.now() - older_than
    removed = 0
    for name in storage.listdir(PARTS_DIR)[1]:
        key = posixpath.join(PARTS_DIR, name)
        with contextlib.suppress(*STORAGE_ERRORS):
            if storage.get_modified_time(key) < cutoff:
                storage.delete(key)
                removed += 1
    return removed


def _discard(storage: Storage, name: str) -> None:
    # The original error matters more; a stray part file would only be clutter.
    with contextlib.suppress(*STORAGE_ERRORS):
        storage.delete(name)
