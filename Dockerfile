# API image for docker-compose.yml (Neo4j runs in its own container).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CVG_CYPHER_DIR=/app/cypher \
    API_HOST=0.0.0.0 \
    API_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY cypher ./cypher
RUN pip install . && useradd --system --uid 10001 --create-home cvg
USER cvg
# `docker compose exec api converge-graph bootstrap` keeps the demo credentials here (the
# image has no local Neo4j: NEO4J_* from docker-compose.yml point at the neo4j service).
ENV CVG_LOCAL_NEO4J_HOME=/home/cvg/converge-graph

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["converge-graph", "serve", "--host", "0.0.0.0"]
