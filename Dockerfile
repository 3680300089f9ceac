# presencectl container image. Build: docker build -t presencectl .
# Run (read-only root filesystem; audit log on a volume):
#   docker run --read-only -v presencectl-state:/var/lib/presencectl \
#     -v "$PWD/desired:/etc/presencectl/desired:ro" -e GENESYS_REGION=eu_west_1 \
#     -e GENESYS_CLIENT_ID -e GENESYS_CLIENT_SECRET -p 9464:9464 presencectl
# tests/deploy/test_image.py builds the same install (a wheel into a clean venv) and runs it.

# Pinned slim base (exact Python and Debian release); pin the digest too where your registry
# policy asks for it (e.g. with Renovate).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/presencectl
# Dependencies first, from pyproject.toml alone: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && /opt/presencectl/bin/pip install --requirement requirements.txt
# Then the code, as a wheel (only the controller package and its data; no tests, no bench).
COPY README.md ./
# controller/schemas links to the one copy of the JSON Schemas, the top-level schemas/; the wheel
# holds them as files.
COPY schemas ./schemas
COPY controller ./controller
RUN /opt/presencectl/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/presencectl/bin/pip install --no-deps /wheels/presencectl-*.whl \
    && /opt/presencectl/bin/presencectl --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="presencectl" \
      org.opencontainers.image.description="Declarative reconciliation daemon for agent presence in Genesys Cloud" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/presencectl /opt/presencectl
# State (the audit log, under audit/ by default) lives on a volume at /var/lib/presencectl, the
# working directory: the root filesystem can be mounted read-only. The desired/ directory is
# mounted at /etc/presencectl/desired (a ConfigMap, or a git-sync volume).
RUN install -d -o 10001 -g 10001 -m 0750 /var/lib/presencectl
VOLUME ["/var/lib/presencectl"]
WORKDIR /var/lib/presencectl
ENV PATH=/opt/presencectl/bin:$PATH \
    HOME=/var/lib/presencectl \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PRESENCECTL_HTTP_BIND=0.0.0.0:9464
# Numeric, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 10001:10001
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
# Exec form: presencectl is PID 1 and receives SIGTERM itself (it finishes in-flight writes and
# the audit batch, then exits 0). It starts no child processes, so no init is needed to reap them.
STOPSIGNAL SIGTERM
ENTRYPOINT ["presencectl"]
CMD ["run", "/etc/presencectl/desired"]
