# csins-adapter: one image for every process (serve, worker, scheduler, db upgrade, keys, sandbox).
#   docker build -t csins-adapter .
#   docker run --rm csins-adapter --help
# Stage 1 builds a virtual environment, stage 2 fetches GOV.UK Frontend's compiled assets, and
# the final stage copies both into a slim image that runs as an unprivileged user.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY adapter ./adapter
COPY schemas ./schemas
COPY jobs ./jobs
COPY config ./config
RUN pip install . \
    && csins-adapter --version

FROM node:22-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim
RUN groupadd --system --gid 10001 csins \
    && useradd --system --uid 10001 --gid csins --create-home --home-dir /home/csins csins \
    && mkdir -p /var/lib/csins /app \
    && chown csins:csins /var/lib/csins
COPY --from=build /opt/venv /opt/venv
# adapter/web serves GOV.UK Frontend from ./node_modules relative to the working directory.
COPY --from=assets /src/node_modules/govuk-frontend/dist /app/node_modules/govuk-frontend/dist
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CSINS_DATA_DIR=/var/lib/csins
WORKDIR /app
USER csins
VOLUME ["/var/lib/csins"]
EXPOSE 8000
ENTRYPOINT ["csins-adapter"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
