# One image for every service and the gateway; APP selects the ASGI factory, PORT the port.
#   docker build -t smartunion .
#   docker run -e APP=services.identity.main:create_app -e PORT=8101 smartunion
# Reproducible from the lock file: `uv sync --frozen` installs exactly uv.lock.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --frozen --no-dev --no-install-project

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app smartunion && mkdir -p /data && chown smartunion /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY services ./services
COPY gateway ./gateway
COPY migrations ./migrations
COPY scripts ./scripts
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SMARTUNION_DATA_DIR=/data APP=gateway.main:create_app PORT=8000 HOST=0.0.0.0
USER smartunion
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request;urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz',timeout=2)"
CMD ["sh", "-c", "exec uvicorn --factory \"$APP\" --host \"$HOST\" --port \"$PORT\" --loop uvloop --http httptools --no-access-log --no-server-header --proxy-headers --forwarded-allow-ips=*"]
