# Build a virtual environment in one stage, run it from a slim image as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY adapter ./adapter
COPY schemas ./schemas
COPY jobs ./jobs
COPY config ./config
RUN pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 csins
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    CSINS_DATA_DIR=/var/lib/csins \
    PYTHONUNBUFFERED=1
RUN mkdir -p /var/lib/csins && chown csins /var/lib/csins
USER csins
WORKDIR /home/csins
ENTRYPOINT ["csins-adapter"]
CMD ["--help"]
