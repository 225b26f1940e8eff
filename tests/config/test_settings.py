"""Settings under production variables, checked in a fresh process as they would load."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DRAFTROOM_PRODUCTION": "true",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-for-checks-" + "y" * 20,
    "ALLOWED_HOSTS": "draftroom.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://draftroom.example.com",
    "DATABASE_URL": "postgres://draftroom:secret@postgres:5432/draftroom",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "STORAGE_BACKEND": "s3",
    "AWS_STORAGE_BUCKET_NAME": "draftroom",
    "AWS_S3_ENDPOINT_URL": "http://minio:9000",
    "AWS_ACCESS_KEY_ID": "minio",
    "AWS_SECRET_ACCESS_KEY": "minio-secret",
}


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    # The browser tests set this for their own process; a deploy check must not see it.
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    clean["DRAFTROOM_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_use_postgres_redis_s3_and_secure_cookies(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.STORAGES['default']['BACKEND'], s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG,"
        " s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'] > s.CELERY_TASK_TIME_LIMIT)"
    )
    result = _manage("shell", "-v", "0", "-c", code, env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://redis:6379/0",
        "storages.backends.s3.S3Storage",
        "True",
        "True",
        "False",
        "True",
    ]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = _manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_embedded_defaults_need_no_variables(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.STORAGES['default']['BACKEND'], s.VAR_DIR)"
    )
    result = _manage("shell", "-v", "0", "-c", code, env={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    engine, broker, storage, var_dir = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://localhost/"
    assert storage == "django.core.files.storage.FileSystemStorage"
    assert var_dir == str(tmp_path / "var")
    assert (tmp_path / "var" / "secret_key").exists()


def test_sessions_are_read_from_the_shared_cache_only_when_there_is_one(tmp_path):
    code = "from django.conf import settings as s; print(s.SESSION_ENGINE)"
    shared = _manage(
        "shell", "-v", "0", "-c", code,
        env={**PRODUCTION_ENV, "CACHE_URL": "redis://redis:6379/1"}, tmp_path=tmp_path,
    )  # fmt: skip
    alone = _manage("shell", "-v", "0", "-c", code, env={}, tmp_path=tmp_path)
    assert shared.stdout.split() == ["django.contrib.sessions.backends.cached_db"], shared.stderr
    assert alone.stdout.split() == ["django.contrib.sessions.backends.db"], alone.stderr


def test_production_s3_presigns_with_sigv4_and_spills_large_files_to_disk(tmp_path):
    code = (
        "from django.conf import settings as s; o = s.STORAGES['default']['OPTIONS'];"
        " print(o['signature_version'], o['max_memory_size'], o['querystring_expire'])"
    )
    result = _manage("shell", "-v", "0", "-c", code, env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    # s3v4: AWS refuses SigV2 on buckets created since mid-2020. A positive memory size: at 0
    # django-storages keeps a whole downloaded object in memory.
    assert result.stdout.split() == ["s3v4", str(8 * 1024 * 1024), "300"]


def test_turning_password_login_off_without_single_sign_on_stops_the_start(tmp_path):
    result = _manage("check", env={"DRAFTROOM_PASSWORD_LOGIN": "false"}, tmp_path=tmp_path)
    assert result.returncode != 0 and "needs single sign-on" in result.stderr


def test_single_sign_on_is_configured_from_oidc_variables(tmp_path):
    env = {
        "DRAFTROOM_PASSWORD_LOGIN": "false",
        "OIDC_RP_CLIENT_ID": "draftroom",
        "OIDC_OP_JWKS_ENDPOINT": "https://login.example.com/jwks",
    }
    result = _manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
