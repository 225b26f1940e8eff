# Draftroom app image: web (gunicorn), CPU Celery worker, beat and the migrate one-shot.
# The GPU worker's image is Dockerfile.gpu (the same layout plus torch).
FROM python:3.11-slim

# PYTHONPATH=/app: the code runs from /app, not from the copy `pip install .` puts in
# site-packages, because settings find templates/, static/ and var/ next to the config package.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings \
    DRAFTROOM_VAR_DIR=/app/var

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app

WORKDIR /app

COPY pyproject.toml ./
COPY config ./config
COPY apps ./apps
COPY workers ./workers
RUN pip install --no-cache-dir .

COPY manage.py ./
COPY templates ./templates
COPY static ./static

# Production settings refuse to load without a secret key and allowed hosts; these throw-away
# values are set for this step only (containers get the real ones from compose). The manifest
# WhiteNoise reads lands in /app/var/static, owned by root and read-only to the app user.
RUN DRAFTROOM_PRODUCTION=true \
    SECRET_KEY=collectstatic-build-step-only-not-a-secret \
    ALLOWED_HOSTS=localhost \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
