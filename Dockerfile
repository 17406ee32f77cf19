# Binôme API image: slim Python, non-root, dependencies from the committed lock file.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BINOME_DATABASE_URL=sqlite:////data/binome.db \
    WEB_CONCURRENCY=2 \
    FORWARDED_ALLOW_IPS=127.0.0.1

RUN groupadd --system binome && useradd --system --gid binome --home /srv/binome binome \
    && mkdir -p /data && chown binome:binome /data

WORKDIR /srv/binome
# The exact versions, each checked against its hash (.ci/check-lock keeps the lock in
# step with pyproject.toml), in a layer of their own that code changes do not rebuild.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# Editable install: the migrations directory stays next to the package at run time.
RUN pip install --no-deps -e . && chown -R binome:binome /srv/binome

USER binome
# The embedded SQLite database lives here: mount a volume to keep it across containers.
VOLUME ["/data"]
EXPOSE 8000
# Ready, not merely alive: the database answers and its schema is at the latest migration.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)" || exit 1
# binome serve migrates first (on PostgreSQL under an advisory lock, so replicas may
# start together); behind a proxy, set FORWARDED_ALLOW_IPS to the proxy's address.
CMD ["binome", "serve", "--host", "0.0.0.0", "--port", "8000"]
