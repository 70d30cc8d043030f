"""The baseline of ``bench/api.py``: a Flask endpoint that parses JSON and inserts one row.

Served by gunicorn with exactly the settings ``csins-adapter serve`` uses (gthread, the same
workers, threads, timeout and access log), against the same PostgreSQL database through an
engine built as the service builds its own (``create_database_engine``: the same pool and
connection checks), so the difference measured is what the service does per submission, not the
server around it.

``python bench/api_baseline.py --port P --workers W --threads T`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import argparse
import os
import uuid
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import text

from adapter.store.database import create_database_engine

TABLE = "bench_baseline"
CREATE_TABLE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id VARCHAR(36) PRIMARY KEY, reference VARCHAR(100) NOT NULL, body TEXT NOT NULL)"""


def create_app(database_url: str) -> Flask:
    """``POST /ingest``: the JSON body's reference and the body itself, one row; 201 with its id."""
    engine = create_database_engine(database_url)
    app = Flask("baseline")

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    @app.post("/ingest")
    def ingest() -> Any:
        record = request.get_json()
        row = {
            "id": str(uuid.uuid4()),
            "reference": record["incident"]["reference"],
            "body": request.get_data(as_text=True),
        }
        with engine.begin() as connection:
            connection.execute(
                text(f"INSERT INTO {TABLE} (id, reference, body) VALUES (:id, :reference, :body)"),
                row,
            )
        return jsonify({"id": row["id"]}), 201, {"Location": f"/ingest/{row['id']}"}

    return app


def main() -> None:
    from adapter.cli.service import (
        DEFAULT_WEB_THREADS,
        DEFAULT_WEB_WORKERS,
        gunicorn_settings,
        run_gunicorn,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=DEFAULT_WEB_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_WEB_THREADS)
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    setup = create_database_engine(database_url)
    with setup.begin() as connection:
        connection.execute(text(CREATE_TABLE))
    setup.dispose()

    # The settings of adapter.cli.service.serve, so both servers are alike.
    settings = gunicorn_settings(args.host, args.port, args.workers, args.threads)
    run_gunicorn(settings, lambda: create_app(database_url))


if __name__ == "__main__":
    main()
