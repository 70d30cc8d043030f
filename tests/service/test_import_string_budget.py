"""``POST /imports`` refuses a workbook over the shared-string budget with a 413 problem
(issue 19 item 2), storing nothing."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from adapter.app import create_app
from adapter.store.models import ImportRunRow
from tests.importers.conftest import make_row, with_shared_strings, write_xlsx


def test_a_workbook_over_the_shared_string_budget_is_a_413_problem(service):
    settings = service.settings.with_overrides(max_xlsx_strings=1_000)
    app = create_app(settings=settings)
    app.extensions["csins"].database = service.database
    base = write_xlsx(io.BytesIO(), [make_row("liquidlogic")]).getvalue()
    content = with_shared_strings(base, 5_000)
    response = app.test_client().post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(content), "many.xlsx")},
        headers=service.headers(service.key()),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert "more than 1,000 distinct text values" in response.get_json()["detail"]
    with service.database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ImportRunRow)) == 0
