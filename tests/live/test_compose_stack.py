"""The stack as docker-compose.yml runs it, without Docker: web (gunicorn, production settings,
behind a proxy that sets X-Forwarded-Proto), the default worker, the gpu worker (on the CPU
here) and beat, each started with the command and environment the compose file gives it (read
from the file with PyYAML, not copied), against this machine's PostgreSQL and Redis and the S3
server. A creator uploads and a reviewer reviews over plain HTTP, as a browser would.

Only what must differ outside containers is replaced: service host names become loopback
addresses (database, Redis, S3), gunicorn binds a free loopback port instead of 0.0.0.0:8000,
beat keeps its schedule file in the test's folder, and model weights come from the test's
folder. Everything else (gunicorn's worker model, Celery queues, pools and concurrency) is the
file's."""

from __future__ import annotations

import http.cookies
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import yaml
from django.conf import settings
from django.db import connection

from apps.checks.models import CheckJob
from apps.core.models import JobStatus
from apps.drafts.models import Draft, PreviewJob
from apps.upscales.models import UpscaleJob
from tests.factories import PASSWORD
from tests.images import png_bytes
from tests.live.conftest import REDIS_URL, ROOT, wait_for
from tests.test_compose import command, environment

pytestmark = pytest.mark.live

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    """The compose services as local processes, each with its own log."""

    def __init__(self, var: Path, env: dict[str, str]) -> None:
        self.var, self.env, self.procs = var, env, {}
        self.port = _free_port()

    def argv(self, name: str) -> list[str]:
        args = command(SERVICES[name])
        if name == "web":
            args[args.index("--bind") + 1] = f"127.0.0.1:{self.port}"
        if name == "beat":
            args[args.index("--schedule") + 1] = str(self.var / "celerybeat-schedule")
        # The image's interpreter is this virtualenv's.
        tools = {
            "gunicorn": [sys.executable, "-m", "gunicorn"],
            "celery": [sys.executable, "-m", "celery"],
        }
        return tools.get(args[0], [sys.executable]) + args[1:] if args[0] in tools else args

    def run_once(self, name: str) -> None:
        args = command(SERVICES[name])
        args = [sys.executable, *args[1:]] if args[0] == "python" else args
        result = subprocess.run(
            args, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def start(self, name: str) -> None:
        log = self.var / f"{name}.log"
        self.procs[name] = (
            subprocess.Popen(
                self.argv(name),
                cwd=ROOT,
                env=self.env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            log,
        )

    def log(self, name: str) -> str:
        return self.procs[name][1].read_text()

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in self.procs)

    def alive(self, name: str) -> bool:
        return self.procs[name][0].poll() is None

    def stop(self) -> None:
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, _ in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


class Browser:
    """Plain HTTP as a browser behind the TLS proxy: X-Forwarded-Proto, cookies (Secure ones
    too: the proxy's HTTPS ends here), CSRF tokens from forms, redirects followed only to us."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(
        self, path: str, data: dict[str, str] | None = None, *, body: bytes | None = None,
        content_type: str = "", accept: str = "text/html", follow: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        headers = {
            "X-Forwarded-Proto": "https",
            "Accept": accept,
            "Referer": self.origin + "/",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if data is not None:
            body = urlencode(
                {**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            ).encode()
            content_type = "application/x-www-form-urlencoded"
        if body is not None:
            headers["Content-Type"] = content_type
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        opener = urllib.request.build_opener(_NoRedirect)
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        try:
            answer = opener.open(request, timeout=60)
            status, head, content = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as exc:
            status, head, content = exc.code, exc.headers, exc.read()
        for value in head.get_all("Set-Cookie") or []:
            for key, morsel in http.cookies.SimpleCookie(value).items():
                self.cookies[key] = morsel.value
        location = head.get("Location", "")
        if follow and status in (301, 302) and location.startswith("/"):
            return self.request(location, accept=accept)
        return status, dict(head.items()), content

    def log_in(self, username: str) -> None:
        status, _, _ = self.request("/login/")
        assert status == 200 and "csrftoken" in self.cookies
        status, _, _ = self.request(
            "/login/", {"username": username, "password": PASSWORD}, follow=False
        )
        assert status == 302, f"login as {username} answered {status}"
        assert "sessionid" in self.cookies


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def stack(s3, live_var, transactional_db, cast):  # type: ignore[no-untyped-def]
    from tests.live.conftest import _flush_broker
    from tests.s3 import s3_environment

    _flush_broker()
    db = settings.DATABASES["default"]
    var = live_var / f"stack-{uuid.uuid4().hex[:8]}"
    var.mkdir()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
        },
        **environment(SERVICES["web"]),
        # Loopback instead of the compose network's host names.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_URL": REDIS_URL.rsplit("/", 1)[0] + "/13",
        **s3_environment(bucket=s3.bucket, endpoint_url=s3.endpoint_url),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DRAFTROOM_VAR_DIR": str(var),
        # No weights: the gpu worker upscales with the labelled classical fallback on the CPU.
        "UPSCALE_MODELS_DIR": str(var / "models"),
        # gunicorn's control socket goes under $HOME: keep it in the test's folder.
        "HOME": str(var),
    }
    # The image runs collectstatic at build time (the manifest production settings serve from).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip
    # The cast's passwords, hashed as production checks them (the test settings use a fast
    # hasher production does not accept).
    reset = (
        "from django.contrib.auth.models import User\n"
        "for user in User.objects.all():\n"
        f"    user.set_password({PASSWORD!r}); user.save()"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", reset],
        cwd=ROOT, env=env, check=True, timeout=120,
    )  # fmt: skip
    running = Stack(var, env)
    running.run_once("migrate")
    try:
        for name in ("web", "worker", "gpu-worker", "beat"):
            running.start(name)
        yield running
    finally:
        running.stop()


def test_the_compose_services_run_one_reviewers_flow_over_http_on_s3(stack, s3, cast, batch):
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    for name, ready in (
        ("web", "Booting worker"),
        ("worker", " ready."),
        ("gpu-worker", " ready."),
        ("beat", "beat: Starting"),
    ):
        wait_for(lambda n=name, r=ready: r in stack.log(n), timeout=120, what=f"{name} to start")
    assert "--pool" in stack.argv("gpu-worker") and "threads" in stack.argv("gpu-worker")

    # Plain HTTP without the proxy's header is sent to HTTPS, as production does.
    plain = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        plain.open(f"http://127.0.0.1:{stack.port}/healthz", timeout=30)
    assert redirected.value.code == 301
    assert redirected.value.headers["Location"].startswith("https://")

    creator = Browser(stack.port)
    creator.log_in("creator")
    body, content_type = _multipart("poster.png", png_bytes(size=(96, 64), color=(200, 60, 30)))
    status, _, answer = creator.request(
        f"/batches/{batch.pk}/files/", body=body, content_type=content_type,
        accept="application/json",
    )  # fmt: skip
    assert status == 200 and b'"added"' in answer, answer
    draft = Draft.objects.get()

    def jobs_done() -> bool:
        return all(
            model.objects.filter(draft=draft, status=JobStatus.DONE).exists()
            for model in (PreviewJob, CheckJob)
        )

    wait_for(jobs_done, timeout=180, what="previews and checks from the default worker")
    assert "draft_preview_task" in stack.log("worker")

    reviewer = Browser(stack.port)
    reviewer.log_in("art_director")
    status, head, page = reviewer.request(f"/batches/{batch.pk}/")
    assert status == 200 and b"poster.png" in page
    assert "img-src 'self' " + s3.endpoint_url in head["Content-Security-Policy"]
    status, _, page = reviewer.request(f"/drafts/{draft.pk}/")
    assert status == 200
    status, _, _ = reviewer.request(f"/drafts/{draft.pk}/reviews/", {"decision": "keep"})
    assert status == 200
    draft.refresh_from_db()
    assert draft.decision == "keep"

    # The original at 100 % from storage: a presigned URL the reviewer's browser follows.
    status, head, _ = reviewer.request(f"/drafts/{draft.pk}/image/original/", follow=False)
    assert status == 302 and head["Location"].startswith(s3.endpoint_url)
    assert (
        dict(parse_qsl(urlsplit(head["Location"]).query))["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    )

    # An upscale on the gpu worker (threads pool, on the CPU here).
    status, _, answer = reviewer.request(
        f"/drafts/{draft.pk}/upscales/", {"model": "general-x4v3", "target": "4"},
        accept="application/json",
    )  # fmt: skip
    assert status == 200, answer
    upscale = wait_for(
        lambda: UpscaleJob.objects.filter(status__in=[JobStatus.DONE, JobStatus.FAILED]).first(),
        timeout=300,
        what="the upscale from the gpu worker",
    )
    assert upscale.status == JobStatus.DONE, upscale.error + stack.logs()
    assert "upscale_task" in stack.log("gpu-worker")
    status, head, _ = reviewer.request(f"/upscales/{upscale.pk}/download/", follow=False)
    assert status == 302
    with urllib.request.urlopen(head["Location"], timeout=60) as master:  # noqa: S310
        assert master.headers["Content-Type"] == "image/png"
        assert len(master.read()) == upscale.output_bytes

    # gunicorn answered all of it through its access log; nothing died on the way.
    assert re.search(r'"POST /drafts/\d+/reviews/ HTTP/1.1" 302', stack.log("web"))
    for name in ("web", "worker", "gpu-worker", "beat"):
        assert stack.alive(name), stack.logs()
