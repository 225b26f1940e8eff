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
import hashlib
import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import IO, Any, Protocol

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.utils import timezone
from storages.backends.s3 import S3Storage

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


# Multipart part size for streamed writes: S3 wants at least 5 MiB for every part but the last,
# and memory holds one part at a time.
STREAM_PART_BYTES = 8 * 1024 * 1024


class StorageStream:
    """A file being written to storage as it is produced (``storage_stream``): ``write`` it,
    then ``finish()`` publishes it. ``sha256`` and ``size`` describe what was written."""

    def __init__(self, sink: Any) -> None:
        self._sink = sink
        self._digest = hashlib.sha256()
        self.size = 0
        self.finished = False

    def write(self, data: bytes) -> int:
        self._sink.write(data)
        self._digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def finish(self) -> None:
        self._sink.finish()
        self.finished = True


@contextlib.contextmanager
def storage_stream(key: str, *, storage: Storage | None = None) -> Iterator[StorageStream]:
    """Write ``key`` as it is produced, complete or not at all: on S3 a multipart upload (one
    part in memory at a time; an unfinished upload is aborted and never visible under the key),
    on the filesystem a part file renamed to the key. The body must call ``finish()``; leaving
    the block without it (an exception) publishes nothing. Not seekable: zipfile writes data
    descriptors instead of going back to patch headers."""
    storage = storage or default_storage
    sink: _Sink = (
        _S3MultipartSink(storage, key) if storage_is_s3(storage) else _PutOnFinishSink(storage, key)
    )
    stream = StorageStream(sink)
    try:
        yield stream
    finally:
        if not stream.finished:
            sink.abort()


class _Sink(Protocol):
    """Where a streamed write goes: chunks in order, then exactly one of finish or abort."""

    def write(self, data: bytes) -> None: ...

    def finish(self) -> None: ...

    def abort(self) -> None: ...


def storage_is_s3(storage: Storage | None = None) -> bool:
    """Whether files live in an S3 bucket (django-storages), which presigns URLs and takes
    multipart uploads, rather than on a filesystem."""
    return isinstance(storage or default_storage, S3Storage)


class _S3MultipartSink:
    def __init__(self, storage: Any, key: str) -> None:
        self._client = storage.connection.meta.client
        self._bucket = storage.bucket_name
        self._key = storage._normalize_name(key)  # the storage's location prefix, as save() does
        params = storage.get_object_parameters(self._key)
        params.setdefault("ContentType", "application/octet-stream")
        if storage.default_acl:
            params.setdefault("ACL", storage.default_acl)
        created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key, **params)
        self._upload_id = created["UploadId"]
        self._parts: list[dict[str, Any]] = []
        self._buffer = bytearray()

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= STREAM_PART_BYTES:
            self._upload(bytes(self._buffer[:STREAM_PART_BYTES]))
            del self._buffer[:STREAM_PART_BYTES]

    def _upload(self, body: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def finish(self) -> None:
        if self._buffer or not self._parts:
            self._upload(bytes(self._buffer))  # the last part may be small
            self._buffer.clear()
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )

    def abort(self) -> None:
        # Parts left behind would be invisible but billed (the bucket's lifecycle rule also
        # aborts stale uploads, docs/scaling.md); while S3 is down this fails too.
        with contextlib.suppress(*STORAGE_ERRORS):
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )


class _PutOnFinishSink:
    """Other storages: a temporary file on local disk, then ``storage_put`` (which renames a
    part file into place on the filesystem)."""

    def __init__(self, storage: Storage, key: str) -> None:
        self._storage, self._key = storage, key
        self._file = tempfile.TemporaryFile(prefix="draftroom-stream-")  # noqa: SIM115 (closed by finish/abort)

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def finish(self) -> None:
        self._file.seek(0)
        try:
            storage_put(self._key, self._file, storage=self._storage)
        finally:
            self._file.close()

    def abort(self) -> None:
        self._file.close()


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
