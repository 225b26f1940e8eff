"""storage_put: a key holds a complete file or nothing."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage

from apps.core.storage import PARTS_DIR, storage_parts_sweep, storage_put, storage_stream


class _BrokenStream(io.RawIOBase):
    """A source that dies part-way, like a worker killed in the middle of a write."""

    def __init__(self, good: bytes) -> None:
        self.good, self.sent = good, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.sent:
            raise OSError(28, "No space left on device")
        self.sent = True
        buffer[: len(self.good)] = self.good
        return len(self.good)


@pytest.fixture
def disk(tmp_path) -> FileSystemStorage:
    return FileSystemStorage(location=tmp_path)


def _parts(disk) -> list[str]:
    return disk.listdir(PARTS_DIR)[1] if disk.exists(PARTS_DIR) else []


def test_a_file_is_stored_under_exactly_its_key_with_no_part_file_left(disk):
    assert storage_put("a/b/c.png", b"png bytes", storage=disk) == "a/b/c.png"
    assert disk.open("a/b/c.png").read() == b"png bytes"
    assert disk.listdir("a/b") == ([], ["c.png"])
    assert _parts(disk) == []


def test_storing_again_replaces_the_file_whole_instead_of_choosing_another_name(disk):
    storage_put("k.bin", b"old", storage=disk)
    storage_put("k.bin", b"new and longer", storage=disk)
    assert disk.open("k.bin").read() == b"new and longer"
    assert disk.listdir("")[1] == ["k.bin"]


def test_keep_existing_leaves_a_content_addressed_file_alone(disk):
    storage_put("sha.png", b"first", storage=disk)
    storage_put("sha.png", b"second", storage=disk, keep_existing=True)
    assert disk.open("sha.png").read() == b"first"


def test_a_write_that_dies_half_way_publishes_nothing_and_keeps_the_old_file(disk):
    storage_put("v.jpg", b"complete old version", storage=disk)
    with pytest.raises(OSError, match="No space"):
        storage_put("v.jpg", io.BufferedReader(_BrokenStream(b"x" * 1000)), storage=disk)
    assert disk.open("v.jpg").read() == b"complete old version"
    assert _parts(disk) == []


def test_a_write_that_dies_before_any_file_existed_leaves_the_key_absent(disk):
    with pytest.raises(OSError):
        storage_put("new.jpg", io.BufferedReader(_BrokenStream(b"x" * 1000)), storage=disk)
    assert not disk.exists("new.jpg")
    assert disk.listdir("")[1] == [] and _parts(disk) == []


class _ObjectStore(Storage):
    """Like S3: no local paths; an object appears only once its upload completed."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def _save(self, name, content):  # type: ignore[no-untyped-def]
        self.objects[name] = content.read()
        return name

    def _open(self, name, mode="rb"):  # type: ignore[no-untyped-def]
        return ContentFile(self.objects[name], name=name)

    def exists(self, name: str) -> bool:
        return name in self.objects

    def delete(self, name: str) -> None:
        self.objects.pop(name, None)


def test_an_object_store_without_local_paths_gets_a_plain_save_under_the_same_key():
    store = _ObjectStore()
    storage_put("o/k.zip", b"one", storage=store)
    storage_put("o/k.zip", b"two", storage=store)
    assert store.objects == {"o/k.zip": b"two"}


def test_the_sweeper_deletes_old_part_files_a_killed_writer_left_and_keeps_fresh_ones(disk):
    old = disk.save(f"{PARTS_DIR}/.part-dead-v.jpg", ContentFile(b"half a file"))
    fresh = disk.save(f"{PARTS_DIR}/.part-writing-w.jpg", ContentFile(b"being written"))
    hours_ago = time.time() - 7 * 3600
    os.utime(disk.path(old), (hours_ago, hours_ago))
    storage_put("kept.jpg", b"published", storage=disk)
    assert storage_parts_sweep(storage=disk) == 1
    assert not disk.exists(old) and disk.exists(fresh) and disk.exists("kept.jpg")


def test_the_sweeper_has_nothing_to_do_on_an_object_store():
    assert storage_parts_sweep(storage=_ObjectStore()) == 0


# --- storage_stream: written as it is produced ------------------------------------------------


def test_a_stream_to_s3_is_a_multipart_upload_that_appears_only_when_finished(s3_bucket):
    import boto3

    from apps.core.storage import STREAM_PART_BYTES

    client = boto3.client("s3", region_name="us-east-1")
    data = os.urandom(STREAM_PART_BYTES * 2 + 12345)
    with storage_stream("packs/big.zip") as out:
        for start in range(0, len(data), 1 << 20):
            out.write(data[start : start + (1 << 20)])
        assert client.list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0
        out.finish()
    answer = client.get_object(Bucket=s3_bucket, Key="packs/big.zip")
    assert answer["Body"].read() == data
    assert answer["ETag"].strip('"').endswith("-3")  # three parts, the last one small
    assert (out.size, out.sha256) == (len(data), hashlib.sha256(data).hexdigest())


def test_a_stream_to_s3_that_dies_is_aborted_and_leaves_no_object_or_upload(s3_bucket):
    import boto3

    from apps.core.storage import STREAM_PART_BYTES

    client = boto3.client("s3", region_name="us-east-1")

    def build_and_die() -> None:
        with storage_stream("packs/half.zip") as out:
            out.write(os.urandom(STREAM_PART_BYTES + 1))  # one part uploaded already
            raise RuntimeError("the worker's build failed half-way")

    with pytest.raises(RuntimeError):
        build_and_die()
    assert client.list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0
    assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")


def test_a_stream_on_the_filesystem_is_published_whole_or_not_at_all(disk):

    def build_and_die() -> None:
        with storage_stream("packs/p.zip", storage=disk) as out:
            out.write(b"PK half")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        build_and_die()
    assert not disk.exists("packs/p.zip")
    with storage_stream("packs/p.zip", storage=disk) as out:
        out.write(b"PK whole")
        out.finish()
    assert disk.open("packs/p.zip").read() == b"PK whole"
    assert disk.listdir(PARTS_DIR)[1] == []
