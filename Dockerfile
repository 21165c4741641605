# The poller image: the package and its pinned dependencies; no secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 POLLER_HOME=/opt/poller
WORKDIR /opt/poller

COPY pyproject.toml constraints.txt README.md ./
COPY poller ./poller
COPY flows ./flows
COPY deployments ./deployments
COPY prefect.yaml ./
RUN pip install --no-cache-dir -c constraints.txt .

RUN useradd --create-home poller && mkdir -p /opt/poller/data && chown poller /opt/poller/data
USER poller

HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD python -c "import httpx, os; httpx.get(os.environ['PREFECT_API_URL'] + '/health', timeout=4).raise_for_status()"

CMD ["poller", "run"]
