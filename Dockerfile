# The production image: one image for web (gunicorn), worker and beat.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    PATH="/app/.venv/bin:$PATH"

WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.9" \
    && useradd --system --uid 10001 --home /app marquee

COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# A build step, not a site: DJANGO_DEBUG=1 so the production refusals (no secret key, the
# sandbox) do not apply to it. The processes the image runs have DEBUG off, the default.
RUN DJANGO_DEBUG=1 MARQUEE_MANIFEST_STATIC=1 python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var/media && chown -R marquee /app/var

USER marquee
EXPOSE 8000
CMD ["gunicorn", "ticketing.wsgi:application", "-c", "gunicorn.conf.py"]
