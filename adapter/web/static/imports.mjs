// The imports page without a full reload: while an import is queued or running, ask for fresh
// counts every few seconds and write them into the table (the page reads the same without it).
const table = document.querySelector("[data-app-imports]");
const unfinished = new Set(["queued", "running"]);
const words = { queued: "Queued", running: "Running", done: "Done", failed: "Failed" };
const colours = { queued: "grey", running: "light-blue", done: "green", failed: "red" };

function pending() {
  return [...table.querySelectorAll("[data-app-import]")].some((row) =>
    unfinished.has(row.dataset.appStatus),
  );
}

function show(row, item) {
  row.dataset.appStatus = item.status;
  const tag = document.createElement("strong");
  tag.className = `govuk-tag govuk-tag--${colours[item.status] || "grey"}`;
  tag.textContent = words[item.status] || item.status;
  row.querySelector('[data-app-field="status"]').replaceChildren(tag);
  row.querySelector("progress").value = item.percent;
  row.querySelector('[data-app-field="progress"]').textContent =
    `${item.rows_read} of ${item.rows_total} rows (${item.percent}%)`;
  for (const name of [
    "incidents_created",
    "incidents_unchanged",
    "incidents_conflicting",
    "error_count",
  ]) {
    row.querySelector(`[data-app-field="${name}"]`).textContent = String(item[name]);
  }
}

async function refresh() {
  const response = await fetch(table.dataset.appSource, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) return;
  const { items } = await response.json();
  for (const item of items) {
    const row = table.querySelector(`[data-app-import="${CSS.escape(item.id)}"]`);
    if (row) show(row, item);
  }
}

async function poll() {
  if (!pending()) return;
  try {
    await refresh();
  } finally {
    window.setTimeout(poll, Number(table.dataset.appRefresh) * 1000);
  }
}

if (table) window.setTimeout(poll, Number(table.dataset.appRefresh) * 1000);
