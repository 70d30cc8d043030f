// Start GOV.UK Frontend's components (buttons, service navigation, error summary...) and the
// print button of the receipt page, which is hidden until JavaScript can make it work.
import { initAll } from "../govuk-frontend/govuk-frontend.min.js";

initAll();

for (const button of document.querySelectorAll("[data-app-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// Copy buttons of a submission to make: each copies one answer for the national online service.
for (const button of document.querySelectorAll("[data-app-copy]")) {
  const source = document.getElementById(button.dataset.appCopy);
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  });
}
