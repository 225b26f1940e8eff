"""S3 storage for the tests: the production options (config/settings.py, ``STORAGE_BACKEND=s3``)
pointed at a moto bucket, in-process (``mock_aws``) or over HTTP (moto's server, tests/live)."""

from __future__ import annotations

from typing import Any

ACCESS_KEY = "draftroom-test"
SECRET_KEY = "draftroom-test-secret"
REGION = "us-east-1"


def s3_storages(
    settings: Any, *, bucket: str, endpoint_url: str | None = None, max_memory_size: int = 0
) -> dict[str, Any]:
    """``settings.STORAGES`` with the default storage on S3, as production configures it."""
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": settings.SIGNED_URL_SECONDS,
                "file_overwrite": True,
                "signature_version": "s3v4",
                "max_memory_size": max_memory_size or 8 * 1024 * 1024,
            },
        },
    }


def s3_environment(*, bucket: str, endpoint_url: str) -> dict[str, str]:
    """The same storage as environment variables, for processes that load config/settings.py
    (workers, gunicorn)."""
    return {
        "STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint_url,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
