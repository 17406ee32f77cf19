# Binôme API image: slim Python, non-root, migrations at start, uvicorn workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BINOME_DATABASE_URL=sqlite:////data/binome.db \
    WEB_CONCURRENCY=2

RUN groupadd --system binome && useradd --system --gid binome --home /srv/binome binome \
    && mkdir -p /data && chown binome:binome /data

WORKDIR /srv/binome
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# Editable install: the migrations directory stays next to the package at run time.
RUN pip install -e . && chown -R binome:binome /srv/binome

USER binome
# The embedded SQLite database lives here: mount a volume to keep it across containers.
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
# Replicas may start together: on PostgreSQL the migration takes an advisory lock.
CMD ["sh", "-c", "binome migrate && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY} --proxy-headers"]
