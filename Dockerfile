# syntax=docker/dockerfile:1.7
# The Wild Rydes code location on AWS: one image for the Dagster webserver, the daemon and every run's task
# (infra/dagster.yaml; docs/dagster-on-aws.md). Build from the repository root:
#   docker build -t <repository uri>:<tag> .          (--platform linux/arm64 for CpuArchitecture=ARM64)
# Python dependencies are exactly uv.lock's base dependencies (no dev group, no `local` extra); the
# tests/unit/infra/test_dockerfile.py checks this file against uv.lock, .dockerignore and the task definitions.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
COPY pyproject.toml uv.lock ./
# --frozen: install what uv.lock says, never re-resolve; the project itself is not installed (its code is
# copied below and found through PYTHONPATH), so the image holds no other package of this repository.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 dagster \
    && useradd --system --uid 10001 --gid dagster --home-dir /opt/dagster --create-home dagster
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
WORKDIR /app
# The virtual environment keeps its path (/app/.venv): its scripts name their interpreter by absolute path.
COPY --from=build /app/.venv /app/.venv
COPY workspace.yaml ./
COPY orchestration/ ./orchestration/
COPY dbt_project/ ./dbt_project/
COPY infra/docker/dagster-entrypoint.sh /usr/local/bin/dagster-entrypoint
RUN mkdir -p "$DAGSTER_HOME" dbt_project/target dbt_project/logs \
    && chown dagster:dagster "$DAGSTER_HOME" dbt_project/target dbt_project/logs
USER dagster
# The dbt manifest the code location loads, parsed once here instead of in every task at start.
RUN dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet

EXPOSE 3000
ENTRYPOINT ["dagster-entrypoint"]
# The webserver by default; the daemon's task runs `dagster-daemon run -w workspace.yaml`, and EcsRunLauncher
# gives each run's task `dagster api execute_run ...`. 0.0.0.0 is right inside the container: it is the task's
# own network interface, which admits nothing (no inbound rule); Session Manager connects from inside the task.
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml"]
