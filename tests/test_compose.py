"""docker-compose.yml and the Dockerfiles, checked against the code they run.

Docker is not needed: the compose file is read as YAML, its ``${VAR}`` references are resolved
the way Compose resolves them, and every name it mentions (settings variables, the Celery app,
queues, the WSGI application, the health check URL, management commands, Dockerfiles) is looked
up in the real project.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.conf import settings
from django.core.management import get_commands
from django.urls import Resolver404, resolve

from apps.core.jobs import job_kinds
from config import env as env_readers

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SETTINGS_FILE = ROOT / "config" / "settings.py"

# The services that run Draftroom's own code, and the ones among them that keep running.
APP_SERVICES = ("migrate", "web", "worker", "gpu-worker", "beat")
LONG_RUNNING_APP_SERVICES = ("web", "worker", "gpu-worker", "beat")
APP_IMAGE_SERVICES = ("migrate", "web", "worker", "beat")  # share one image, from Dockerfile
GPU_QUEUE = "gpu"

REQUIRED_APP_ENV = (
    "DRAFTROOM_PRODUCTION",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "STORAGE_BACKEND",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)
# Secrets that must come from the operator: `${VAR:?message}`, never a default.
REQUIRED_SECRETS = {
    "SECRET_KEY": ("SECRET_KEY",),
    "POSTGRES_PASSWORD": ("DATABASE_URL",),
    "MINIO_ROOT_PASSWORD": ("AWS_SECRET_ACCESS_KEY",),
}


# --- Reading the compose file the way Compose does --------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(value: Any) -> str:
    """Resolve ``${VAR:-default}``, ``${VAR:?message}``, ``${VAR}`` and ``$$`` as Compose does
    with an empty environment; a required variable gets a long, recognisable test value."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            return f"compose-test-{name.lower().replace('_', '-')}-" + "k7Qz" * 12
        return ""

    return _INTERPOLATION.sub(substitute, str(value))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml must be a YAML mapping"
    assert isinstance(data.get("services"), dict), "docker-compose.yml has no `services:` mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def service(services: Mapping[str, Any], name: str) -> dict[str, Any]:
    assert name in services, f"docker-compose.yml has no `{name}` service (has: {sorted(services)})"
    return services[name]


def raw_environment(svc: Mapping[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def environment(svc: Mapping[str, Any]) -> dict[str, str]:
    return {key: interpolate(value) for key, value in raw_environment(svc).items()}


def command(svc: Mapping[str, Any]) -> list[str]:
    cmd = svc.get("command") or []
    args = shlex.split(cmd) if isinstance(cmd, str) else [str(arg) for arg in cmd]
    return [interpolate(arg) for arg in args]


def option_values(args: list[str], *names: str) -> list[str]:
    """Values of a command-line option in any spelling: `-Q gpu`, `-Qgpu`, `--queues=gpu`."""
    values = []
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                values.append(args[index + 1])
            elif name.startswith("--") and arg.startswith(name + "="):
                values.append(arg.split("=", 1)[1])
            elif not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                values.append(arg[len(name) :])
    return values


def depends_on(svc: Mapping[str, Any]) -> dict[str, str]:
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):  # the short form means "started", nothing more
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def healthcheck_text(svc: Mapping[str, Any]) -> str:
    test = (svc.get("healthcheck") or {}).get("test") or []
    return " ".join(test) if isinstance(test, list) else str(test)


def celery_services(services: Mapping[str, Any]) -> dict[str, list[str]]:
    found = {name: command(svc) for name, svc in services.items()}
    return {name: args for name, args in found.items() if args[:1] == ["celery"]}


def worker_queues(args: list[str]) -> list[str]:
    return [q.strip() for value in option_values(args, "-Q", "--queues") for q in value.split(",")]


# --- What the code really has ------------------------------------------------------------------

_READERS: dict[str, Callable[..., Any]] = {
    "str": env_readers.env_str,
    "bool": env_readers.env_bool,
    "int": env_readers.env_int,
    "list": env_readers.env_list,
}


def settings_env_reads() -> dict[str, str]:
    """Each variable config/settings.py reads -> its reader: str, bool, int, list or raw."""
    text = SETTINGS_FILE.read_text()
    reads = {m[1]: m[0] for m in re.findall(r'\benv_(str|bool|int|list)\(\s*"([A-Z0-9_]+)"', text)}
    for pattern in (
        r'environ\.get\(\s*"([A-Z0-9_]+)"',
        r'environ\[\s*"([A-Z0-9_]+)"\s*\]',
        r'getenv\(\s*"([A-Z0-9_]+)"',
    ):
        for name in re.findall(pattern, text):
            reads.setdefault(name, "raw")
    assert {"SECRET_KEY", "DATABASE_URL"} <= reads.keys(), (
        "could not find the env_* reads in config/settings.py; update settings_env_reads()"
    )
    return reads


def routed_queues() -> set[str]:
    """Every queue a message can be sent to: the job kinds' queues, the default queue (beat's
    sweeper task has no route) and the GPU queue for upscaling."""
    return {kind.queue for kind in job_kinds()} | {settings.CELERY_TASK_DEFAULT_QUEUE, GPU_QUEUE}


# --- Environment ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_only_variables_the_settings_read(services, name):
    reads = settings_env_reads()
    unknown = sorted(set(raw_environment(service(services, name))) - reads.keys())
    assert not unknown, (
        f"`{name}` sets {unknown}, which config/settings.py never reads (typo, or a setting that "
        f"was renamed?). Variables the settings read: {sorted(reads)}"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_the_required_production_variables(services, name):
    env = environment(service(services, name))
    missing = [var for var in REQUIRED_APP_ENV if not env.get(var)]
    assert not missing, f"`{name}` does not set {missing}; production settings need them"
    assert env_readers.env_bool("DRAFTROOM_PRODUCTION", False, env), (
        f"`{name}` must run with DRAFTROOM_PRODUCTION true, got {env['DRAFTROOM_PRODUCTION']!r}"
    )
    assert env["STORAGE_BACKEND"] == "s3", (
        f"`{name}` must store media in MinIO: STORAGE_BACKEND=s3, got {env['STORAGE_BACKEND']!r}"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_value_parses_as_the_type_the_settings_read(services, name):
    reads = settings_env_reads()
    env = environment(service(services, name))
    for var, value in env.items():
        reader = _READERS.get(reads.get(var, "raw"))
        if reader is None:
            continue
        try:
            reader(var, None, env)
        except ValueError as exc:
            pytest.fail(f"`{name}` sets {var}={value!r}, which the settings cannot read: {exc}")


def test_all_app_services_get_the_same_environment(services):
    envs = {name: raw_environment(service(services, name)) for name in APP_SERVICES}
    reference = envs["web"]
    for name, env in envs.items():
        assert env == reference, (
            f"`{name}` and `web` get different environments; share one `x-` anchor so a worker "
            f"never runs against other settings than the web process. Differences: "
            f"{sorted(set(env.items()) ^ set(reference.items()))}"
        )


@pytest.mark.parametrize(("secret", "app_vars"), REQUIRED_SECRETS.items())
def test_secrets_must_be_supplied_and_are_never_defaulted(compose, secret, app_vars):
    text = COMPOSE_FILE.read_text()
    # `$${NAME}` is escaped: a variable of the container's own shell, not of Compose.
    uses = re.findall(r"(?<!\$)\$\{" + secret + r"(:?[-?])?[^}]*\}", text)
    assert uses, f"docker-compose.yml never uses ${{{secret}}}"
    assert all(op in (":?", "?") for op in uses), (
        f"every ${{{secret}}} must be `${{{secret}:?message}}` so Compose refuses to start "
        f"without it; found operators {uses}"
    )
    web_env = raw_environment(compose["services"]["web"])
    for var in app_vars:
        assert "${" + secret + ":?" in web_env.get(var, ""), (
            f"the app's {var} must be built from ${{{secret}:?…}}, got {web_env.get(var)!r}"
        )


def test_connection_urls_point_at_the_compose_services(services):
    env = environment(service(services, "web"))

    db = dj_database_url.parse(env["DATABASE_URL"])
    assert db["ENGINE"] == "django.db.backends.postgresql", f"DATABASE_URL engine: {db['ENGINE']}"
    assert db["HOST"] in services, f"DATABASE_URL host {db['HOST']!r} is not a compose service"
    assert str(service(services, db["HOST"]).get("image", "")).startswith("postgres:")
    pg = environment(service(services, db["HOST"]))
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == (
        pg.get("POSTGRES_DB"),
        pg.get("POSTGRES_USER"),
        pg.get("POSTGRES_PASSWORD"),
    ), "DATABASE_URL's database, user and password must be the postgres service's POSTGRES_*"

    broker = urlsplit(env["CELERY_BROKER_URL"])
    assert broker.scheme == "redis", f"CELERY_BROKER_URL must be redis://…, got {broker.scheme}"
    assert broker.hostname in services, f"broker host {broker.hostname!r} is not a service"
    assert str(service(services, broker.hostname).get("image", "")).startswith("redis:")

    endpoint = urlsplit(env["AWS_S3_ENDPOINT_URL"])
    assert endpoint.hostname in services, f"S3 endpoint {endpoint.hostname!r} is not a service"
    minio = environment(service(services, endpoint.hostname))
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        minio.get("MINIO_ROOT_USER"),
        minio.get("MINIO_ROOT_PASSWORD"),
    ), "the app's AWS_* credentials must be the ones MinIO is started with"


def test_minio_init_creates_the_apps_bucket_and_keeps_it_private(services):
    init = service(services, "minio-init")
    assert str(init.get("image", "")).startswith("minio/mc"), "minio-init must use minio/mc"
    script = " ".join(command(init))
    bucket = environment(service(services, "web"))["AWS_STORAGE_BUCKET_NAME"]
    init_env = environment(init)
    script = re.sub(r"\$\{?(\w+)\}?", lambda m: init_env.get(m[1], m[0]), script)
    assert re.search(r"mc mb --ignore-existing \S*/" + re.escape(bucket) + r"\b", script), (
        f"minio-init must create bucket {bucket!r} idempotently (mc mb --ignore-existing): {script}"
    )
    assert re.search(r"mc anonymous set none \S*/" + re.escape(bucket) + r"\b", script), (
        f"minio-init must keep bucket {bucket!r} private (mc anonymous set none): {script}"
    )


def test_production_settings_load_and_pass_deploy_checks_under_the_compose_environment(
    services, tmp_path
):
    env = environment(service(services, "web"))
    # Like a container: the compose environment and little else. Nothing leaks in from this test
    # process (DJANGO_SETTINGS_MODULE, or DJANGO_ALLOW_ASYNC_UNSAFE from the browser tests).
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    clean = {key: os.environ[key] for key in keep if key in os.environ}
    # Only the folder moves: /app/var exists in the image, not on this machine.
    env["DRAFTROOM_VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        "`manage.py check --deploy` fails under the compose environment:\n"
        + result.stdout
        + result.stderr
    )


# --- Commands --------------------------------------------------------------------------------


def test_celery_commands_name_the_real_celery_app(services):
    celery = celery_services(services)
    assert celery, "no service runs celery"
    for name, args in celery.items():
        apps = option_values(args, "-A", "--app")
        assert len(apps) == 1, f"`{name}` must name the Celery app once with -A: {args}"
        try:
            module = importlib.import_module(apps[0].split(":")[0])
        except ImportError as exc:
            module = None
            error = exc
        assert module is not None, f"`{name}` runs `celery -A {apps[0]}`, which fails: {error}"
        assert isinstance(getattr(module, "celery_app", None), Celery), (
            f"`{name}` runs `celery -A {apps[0]}`, but {module.__name__}.celery_app is not a "
            "Celery app"
        )
        found = find_app(apps[0])
        assert found is module.celery_app, (
            f"celery resolves -A {apps[0]} to {found!r}, not {module.__name__}.celery_app"
        )


def test_worker_queues_are_the_queues_the_code_routes_to(services):
    known = routed_queues()
    consumed: set[str] = set()
    for name, args in celery_services(services).items():
        if "worker" not in args:
            continue
        queues = worker_queues(args)
        assert queues, f"`{name}` must say which queues it consumes with -Q: {args}"
        unknown = set(queues) - known
        assert not unknown, f"`{name}` consumes {sorted(unknown)}; the code routes to {known}"
        consumed |= set(queues)
    assert consumed == known, f"no worker consumes {sorted(known - consumed)}"


def test_cpu_worker_takes_the_default_queue_only(services):
    args = command(service(services, "worker"))
    assert args[:4] == ["celery", "-A", "config", "worker"], f"`worker` command: {args}"
    assert worker_queues(args) == [settings.CELERY_TASK_DEFAULT_QUEUE], (
        f"`worker` must consume only {settings.CELERY_TASK_DEFAULT_QUEUE!r}, "
        f"not {worker_queues(args)}: GPU jobs would land on a machine without torch"
    )


def gpu_worker_options(args: list[str]) -> dict[str, list[str]]:
    return {
        "queues": worker_queues(args),
        "pool": option_values(args, "-P", "--pool"),
        "concurrency": option_values(args, "-c", "--concurrency"),
        "autoscale": option_values(args, "--autoscale"),
        "max-tasks-per-child": option_values(args, "--max-tasks-per-child"),
    }


def test_gpu_worker_runs_one_process_with_two_job_threads_on_the_gpu_queue_only(services):
    args = command(service(services, "gpu-worker"))
    assert "worker" in args, f"`gpu-worker` must run a celery worker: {args}"
    options = gpu_worker_options(args)
    assert options["queues"] == [GPU_QUEUE], f"`gpu-worker` must use -Q {GPU_QUEUE} only: {args}"
    assert options["pool"] == ["threads"], (
        "`gpu-worker` must use the threads pool: its jobs share one process, so the model loads "
        f"once and the engine's per-device lock lets one network pass at a time run: {args}"
    )
    assert options["concurrency"] == ["2"], (
        "`gpu-worker` must run --concurrency 2: one job on the GPU while the other decodes, "
        f"encodes and stores; more threads would only queue for the same GPU: {args}"
    )
    assert not options["autoscale"], f"`gpu-worker` must not autoscale its threads: {args}"
    assert options["max-tasks-per-child"] in ([], ["0"]), (
        "`gpu-worker` must not recycle its process: that reloads the model for every job"
    )
    # Each thread reserves the one job it runs; a third waits in the broker for any GPU worker.
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_TASK_ACKS_LATE


def test_the_gpu_images_default_command_runs_the_gpu_worker_as_compose_does(services):
    text = (ROOT / "Dockerfile.gpu").read_text()
    match = re.search(r"^CMD (\[.*\])\s*$", text, re.MULTILINE)
    assert match, "Dockerfile.gpu has no exec-form CMD"
    image_args = [str(arg) for arg in yaml.safe_load(match.group(1))]
    compose_args = command(service(services, "gpu-worker"))
    assert image_args[:4] == ["celery", "-A", "config", "worker"], image_args
    assert gpu_worker_options(image_args) == gpu_worker_options(compose_args), (
        f"Dockerfile.gpu runs {image_args}, docker-compose.yml runs {compose_args}"
    )


def test_gpu_worker_reserves_an_nvidia_gpu(services):
    gpu = service(services, "gpu-worker")
    devices = (((gpu.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get(
        "devices"
    ) or []
    nvidia = [d for d in devices if d.get("driver") == "nvidia" and "gpu" in d.get("capabilities")]
    assert nvidia, (
        "`gpu-worker` needs deploy.resources.reservations.devices with driver: nvidia and "
        f"capabilities: [gpu]; got {devices}"
    )
    device = nvidia[0]
    # No count means all GPUs; more than one is wasted on a single worker process.
    one_gpu = len(device.get("device_ids") or []) == 1
    assert device.get("count") in (None, 1, "1", "all") or one_gpu, (
        f"the GPU worker runs one process: reserve count 1 (or all, or one device_id): {device}"
    )


def test_workers_have_time_to_finish_a_job_on_shutdown(services):
    for name in ("worker", "gpu-worker"):
        grace = str(service(services, name).get("stop_grace_period", "10s"))
        match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", grace)
        assert match, f"`{name}` stop_grace_period {grace!r} is not a duration like 10m"
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        assert hours * 3600 + minutes * 60 + seconds >= 5 * 60, (
            f"`{name}` stop_grace_period is {grace}: tasks are acks_late, so a worker stopped "
            "mid-job reruns it; give running jobs minutes to finish"
        )


def test_one_beat_runs_the_schedule_from_settings(services):
    assert settings.CELERY_BEAT_SCHEDULE, "settings have no CELERY_BEAT_SCHEDULE for beat to run"
    celery = celery_services(services)
    beats = [name for name, args in celery.items() if "beat" in args]
    assert beats == ["beat"], f"exactly one service must run `celery -A config beat`: {beats}"
    embedded = [name for name, args in celery.items() if "-B" in args or "--beat" in args]
    assert not embedded, f"{embedded} also run beat (-B): the sweeper would be scheduled twice"


def test_web_runs_gunicorn_with_the_real_wsgi_application(services):
    args = command(service(services, "web"))
    assert args[:1] == ["gunicorn"], f"`web` must run gunicorn: {args}"
    targets = [arg for arg in args[1:] if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", arg)]
    assert targets == ["config.wsgi:application"], f"gunicorn target: {targets}"
    module_path, attribute = targets[0].split(":")
    module = importlib.import_module(module_path)
    assert callable(getattr(module, attribute, None)), f"{targets[0]} is not a WSGI callable"
    assert targets[0].replace(":", ".") == settings.WSGI_APPLICATION, (
        f"gunicorn serves {targets[0]} but settings.WSGI_APPLICATION is {settings.WSGI_APPLICATION}"
    )


def test_web_healthcheck_hits_the_real_health_view_on_the_gunicorn_port(services):
    web = service(services, "web")
    bind = option_values(command(web), "-b", "--bind")
    assert bind, "gunicorn needs --bind 0.0.0.0:PORT to be reachable from other containers"
    host, port = bind[0].rsplit(":", 1)
    all_interfaces = ("0.0.0.0", "[::]", "")  # noqa: S104 (inside a container, on purpose)
    assert host in all_interfaces, f"gunicorn binds {host}: unreachable from other containers"
    published = [str(p).rsplit(":", 1)[-1] for p in web.get("ports", [])]
    assert port in published, f"`web` ports {web.get('ports')} do not publish gunicorn's {port}"

    check = healthcheck_text(web)
    urls = re.findall(r"https?://[^\s'\"]+", check)
    assert urls, f"`web` healthcheck must request a URL: {check!r}"
    url = urlsplit(urls[0])
    assert str(url.port) == port, f"healthcheck port {url.port} is not gunicorn's {port}"
    try:
        match = resolve(url.path)
    except Resolver404:
        match = None
    assert match is not None, f"the `web` healthcheck path {url.path!r} is not in config.urls"
    assert match.url_name == "healthz", f"{url.path} resolves to {match.url_name}, not healthz"
    assert getattr(match.func, "login_required", True) is False, (
        f"{url.path} must be @login_not_required or LoginRequiredMiddleware redirects the check"
    )
    assert "X-Forwarded-Proto" in check, (
        "production settings redirect plain HTTP to HTTPS unless the proxy header says https; "
        "the healthcheck must send X-Forwarded-Proto: https"
    )


def test_manage_py_commands_in_compose_and_dockerfiles_exist():
    available = get_commands()
    texts = {
        "docker-compose.yml": COMPOSE_FILE.read_text(),
        "Dockerfile": (ROOT / "Dockerfile").read_text(),
        "Dockerfile.gpu": (ROOT / "Dockerfile.gpu").read_text(),
    }
    named = {
        (source, cmd)
        for source, text in texts.items()
        for cmd in re.findall(r"manage\.py[\"',\s]+(\w+)", text)
    }
    missing = sorted((source, cmd) for source, cmd in named if cmd not in available)
    assert not missing, f"these manage.py commands do not exist: {missing}"
    used = {cmd for _, cmd in named}
    assert used >= {"migrate", "collectstatic"}, (
        f"expected `manage.py migrate` (compose) and `collectstatic` (Dockerfiles); found {used}"
    )


def test_migrate_runs_once_with_noinput(services):
    migrate = service(services, "migrate")
    args = command(migrate)
    assert args[:3] == ["python", "manage.py", "migrate"] and "--noinput" in args, (
        f"`migrate` must run `python manage.py migrate --noinput`: {args}"
    )
    assert migrate.get("restart") in (None, "no", "on-failure"), (
        f"`migrate` is a one-shot; restart: {migrate.get('restart')!r} would rerun it forever"
    )


# --- Infrastructure and start-up order ------------------------------------------------------------


def test_postgres_is_version_16_with_a_volume_and_pg_isready(compose, services):
    pg = service(services, "postgres")
    assert str(pg.get("image")).startswith("postgres:16"), f"postgres image: {pg.get('image')}"
    assert "pg_isready" in healthcheck_text(pg), "postgres healthcheck must use pg_isready"
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in pg.get("volumes", [])), (
        "postgres data must live on a named volume at /var/lib/postgresql/data"
    )


def test_redis_persists_with_append_only_and_answers_ping(services):
    redis = service(services, "redis")
    assert str(redis.get("image")).startswith("redis:7"), f"redis image: {redis.get('image')}"
    args = command(redis)
    assert option_values(args, "--appendonly") == ["yes"], (
        f"redis must run with --appendonly yes so queued jobs survive a restart: {args}"
    )
    assert "redis-cli ping" in healthcheck_text(redis), "redis healthcheck must be redis-cli ping"
    assert any(str(v).endswith(":/data") for v in redis.get("volumes", [])), (
        "redis needs a volume at /data for its append-only file"
    )


def test_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"`{name}` mounts volume {source!r}, not declared"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_postgres_and_redis_to_be_healthy(services, name):
    deps = depends_on(service(services, name))
    for infra in ("postgres", "redis"):
        assert deps.get(infra) == "service_healthy", (
            f"`{name}` must depend on {infra} with condition: service_healthy (has {deps})"
        )


@pytest.mark.parametrize("name", LONG_RUNNING_APP_SERVICES)
def test_long_running_app_services_wait_for_migrations(services, name):
    deps = depends_on(service(services, name))
    assert deps.get("migrate") == "service_completed_successfully", (
        f"`{name}` must depend on migrate with condition: service_completed_successfully, or it "
        f"can start against an unmigrated database (has {deps})"
    )


@pytest.mark.parametrize("name", ["web", "worker", "gpu-worker"])
def test_services_that_touch_media_wait_for_the_bucket(services, name):
    deps = depends_on(service(services, name))
    assert deps.get("minio-init") == "service_completed_successfully", (
        f"`{name}` reads and writes media; it must wait for minio-init to create the bucket"
    )


def test_every_dependency_exists_and_can_meet_its_condition(services):
    for name, svc in services.items():
        for target, condition in depends_on(svc).items():
            assert target in services, f"`{name}` depends on `{target}`, which is not a service"
            dep = services[target]
            if condition == "service_healthy":
                assert dep.get("healthcheck", {}).get("test"), (
                    f"`{name}` waits for `{target}` to be healthy, but `{target}` has no "
                    "healthcheck (it would never become healthy)"
                )
            elif condition == "service_completed_successfully":
                assert dep.get("restart") in (None, "no", "on-failure"), (
                    f"`{name}` waits for `{target}` to complete, but `{target}` has "
                    f"restart: {dep.get('restart')!r}"
                )
            else:
                assert condition == "service_started", f"`{name}`: unknown condition {condition}"


# --- Images --------------------------------------------------------------------------------------


def build_dockerfile(svc: Mapping[str, Any]) -> Path | None:
    build = svc.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        return ROOT / build / "Dockerfile"
    return ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")


def test_build_entries_point_at_the_dockerfiles(services):
    for name in APP_IMAGE_SERVICES:
        dockerfile = build_dockerfile(service(services, name))
        assert dockerfile == ROOT / "Dockerfile", f"`{name}` must build from Dockerfile"
    assert build_dockerfile(service(services, "gpu-worker")) == ROOT / "Dockerfile.gpu", (
        "`gpu-worker` must build from Dockerfile.gpu (the image with torch)"
    )
    for name, svc in services.items():
        dockerfile = build_dockerfile(svc)
        if dockerfile is not None:
            assert dockerfile.is_file(), f"`{name}` builds from {dockerfile}, which is missing"
            assert name in APP_SERVICES, f"`{name}` builds an image but is not an app service"


def test_web_workers_beat_and_migrate_share_one_image(services):
    images = {name: service(services, name).get("image") for name in APP_IMAGE_SERVICES}
    assert len(set(images.values())) == 1 and None not in images.values(), (
        f"migrate, web, worker and beat must run one image (same `image:`): {images}"
    )
    gpu_image = service(services, "gpu-worker").get("image")
    assert gpu_image and gpu_image not in images.values(), (
        f"`gpu-worker` needs its own image tag (it adds torch), got {gpu_image!r}"
    )


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.gpu"])
def test_dockerfiles_install_the_project_and_run_as_a_non_root_user(services, dockerfile):
    text = (ROOT / dockerfile).read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M), f"{dockerfile}: python:3.11-slim"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0"), f"{dockerfile} must end as a non-root USER"
    assert re.search(r"pip install --no-cache-dir [\"']?\.(\[gpu\])?[\"']?\s*$", text, re.M), (
        f"{dockerfile} must `pip install --no-cache-dir .` the project"
    )
    for needed in ("manage.py", "templates", "static", "config", "apps", "workers"):
        assert re.search(rf"^COPY\s+{needed}\b", text, re.M), (
            f"{dockerfile} must COPY {needed}: settings find it next to the config package"
        )
    assert "collectstatic --noinput" in text, f"{dockerfile} must run collectstatic at build time"
    image_var_dir = re.search(r"DRAFTROOM_VAR_DIR=(\S+)", text)
    compose_var_dir = environment(service(services, "web")).get("DRAFTROOM_VAR_DIR")
    assert image_var_dir and compose_var_dir in (None, image_var_dir[1]), (
        f"{dockerfile} collects static files under DRAFTROOM_VAR_DIR="
        f"{image_var_dir and image_var_dir[1]}, but compose runs with {compose_var_dir}; "
        "WhiteNoise would not find its manifest"
    )


def test_gpu_dockerfile_installs_torch_before_the_gpu_extra():
    text = (ROOT / "Dockerfile.gpu").read_text()
    torch_at = text.find('"torch')
    basicsr_at = text.find("basicsr==")
    extra_at = text.find('".[gpu]"')
    assert extra_at != -1, 'Dockerfile.gpu must install the project with its extra: ".[gpu]"'
    assert -1 < torch_at < basicsr_at < extra_at, (
        "Dockerfile.gpu must install torch first, then basicsr (its setup.py imports torch, "
        "so --no-build-isolation), then the project with .[gpu]"
    )


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build():
    path = ROOT / ".dockerignore"
    assert path.is_file(), ".dockerignore is missing: var/ (local SQLite, secret key) would ship"
    patterns = {line.strip().rstrip("/") for line in path.read_text().splitlines()}
    for excluded in (".git", ".venv", "var", ".env"):
        assert excluded in patterns, f".dockerignore must exclude {excluded}"
    for needed in ("config", "apps", "workers", "templates", "static", "manage.py"):
        assert needed not in patterns, f".dockerignore excludes {needed}, which the image needs"


def _named_volume_mounts(svc: Mapping[str, Any]) -> list[Path]:
    mounts = []
    for volume in svc.get("volumes") or []:
        source, _, target = str(volume).partition(":")
        if target and not source.startswith((".", "/", "~")):
            mounts.append(Path(target.split(":")[0]))
    return mounts


def test_model_weights_and_compiled_kernels_live_on_the_gpu_workers_volume(services):
    """Weights fetched into the gpu worker, and the kernels torch.compile builds there, must
    outlive the container: both folders lie on a named volume that service mounts."""
    gpu = service(services, "gpu-worker")
    mounts = _named_volume_mounts(gpu)
    models_dir = Path(environment(gpu)["UPSCALE_MODELS_DIR"])
    assert any(models_dir.is_relative_to(m) for m in mounts), (models_dir, mounts)
    dockerfile = (ROOT / gpu["build"]["dockerfile"]).read_text()
    inductor = re.search(r"TORCHINDUCTOR_CACHE_DIR=(\S+)", dockerfile)
    assert inductor, "Dockerfile.gpu sets no TORCHINDUCTOR_CACHE_DIR"
    assert any(Path(inductor.group(1)).is_relative_to(m) for m in mounts)
