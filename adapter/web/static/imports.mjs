// The imports page without a full reload: while the page is in view, ask for its rows every few
// seconds and lay the table out again from them, so counts grow and an import started elsewhere
// (another tab, the API, the command line) appears. The page reads the same without it. Every
// text is written with textContent into the row the page's <template> holds: nothing is parsed.
const table = document.querySelector("[data-app-imports]");
const blank = document.querySelector("[data-app-import-row]");
const none = document.querySelector("[data-app-imports-none]");
const news = document.querySelector("[data-app-imports-news]");
const words = { queued: "Queued", running: "Running", done: "Done", failed: "Failed" };
const colours = { queued: "grey", running: "light-blue", done: "green", failed: "red" };
const finished = new Set(["done", "failed"]);
const counts = ["incidents_created", "incidents_unchanged", "incidents_conflicting", "error_count"];
let timer = null;
let busy = false;
let stopped = false;

function field(row, name) {
  return row.querySelector(`[data-app-field="${name}"]`);
}

function made(item) {
  const row = blank.content.firstElementChild.cloneNode(true);
  row.dataset.appImport = item.id;
  const label = `progress-${item.id}`;
  row.querySelector("progress").setAttribute("aria-labelledby", label);
  field(row, "progress").id = label;
  field(row, "started").dateTime = item.started_iso;
  field(row, "started").textContent = item.started;
  field(row, "short_id").textContent = item.short_id;
  field(row, "system_name").textContent = item.system_name;
  return row;
}

function show(row, item) {
  if (row.dataset.appStatus !== item.status && finished.has(item.status)) {
    news.textContent = `Import ${item.short_id}: ${words[item.status]}.`;
  }
  row.dataset.appStatus = item.status;
  const tag = document.createElement("strong");
  tag.className = `govuk-tag govuk-tag--${colours[item.status] || "grey"}`;
  tag.textContent = words[item.status] || item.status;
  field(row, "status").replaceChildren(tag);
  row.querySelector("progress").value = item.percent;
  field(row, "progress").textContent =
    `${item.rows_read} of ${item.rows_total} rows (${item.percent}%)`;
  for (const name of counts) field(row, name).textContent = String(item[name]);
}

function render(items) {
  const rows = items.map((item) => {
    let row = table.querySelector(`[data-app-import="${CSS.escape(item.id)}"]`);
    if (!row) {
      row = made(item);
      news.textContent = `Import ${item.short_id} started.`;
    }
    show(row, item);
    return row;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;
  none.hidden = rows.length > 0;
}

// Fetch the rows; false when polling should stop: the session has ended (the answer is a
// redirect to the sign-in page) or the key may no longer read the page. A network fault or a
// server error is tried again at the next turn.
async function refresh() {
  let response;
  try {
    response = await fetch(table.dataset.appSource, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      redirect: "manual",
    });
  } catch {
    return true;
  }
  if (response.type === "opaqueredirect" || (response.status >= 400 && response.status < 500)) {
    return false;
  }
  if (!response.ok) return true;
  render((await response.json()).items);
  return true;
}

// One chain of requests at most: the next is asked for once the last has answered.
function later() {
  if (stopped || busy || document.hidden || timer !== null) return;
  timer = window.setTimeout(poll, Number(table.dataset.appRefresh) * 1000);
}

async function poll() {
  timer = null;
  if (stopped || busy || document.hidden) return;
  busy = true;
  try {
    stopped = !(await refresh());
  } finally {
    busy = false;
  }
  later();
}

// A tab out of view asks for nothing; back in view, it asks at once.
document.addEventListener("visibilitychange", () => {
  if (table && blank && !document.hidden && timer === null) poll();
});

if (table && blank) later();
