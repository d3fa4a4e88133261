// The supervisors' operations dashboard: figures from /api/dashboard, findings from /api/compliance/findings.
// Uses the console's sign-in (the token the console page keeps in sessionStorage).
(function () {
  "use strict";
  const token = sessionStorage.getItem("agentToken") || "";
  let period = "today";

  async function api(method, path) {
    const response = await fetch(path, {method, headers: {"Authorization": "Bearer " + token}});
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  function showError(message) {
    const error = document.getElementById("dashboard-error");
    error.textContent = message;
    error.classList.toggle("hidden", !message);
  }

  function findingRow(finding) {
    const row = document.createElement("tr");
    row.dataset.finding = finding.id;
    for (const [text, className] of [[new Date(finding.at_ms).toISOString().slice(0, 16).replace("T", " ")],
      [finding.rule], [finding.severity, finding.severity], [`${finding.conversation_id} #${finding.episode}`],
      [finding.evidence]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      row.appendChild(td);
    }
    const review = document.createElement("td");
    if (finding.reviewed_by) {
      review.textContent = `reviewed by ${finding.reviewed_by}`;
    } else {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Mark reviewed";
      button.addEventListener("click", async () => {
        try {
          await api("POST", `/api/compliance/findings/${encodeURIComponent(finding.id)}/review`);
          await load();
        } catch (error) { showError(error.message); }
      });
      review.appendChild(button);
    }
    row.appendChild(review);
    return row;
  }

  async function load() {
    try {
      const summary = await api("GET", `/api/dashboard?period=${period}`);
      const findings = await api("GET", `/api/compliance/findings?period=${period}`);
      showError("");
      OperationsPlots.draw(summary, document.getElementById("dashboard"));
      document.getElementById("findings").replaceChildren(...findings.findings.map(findingRow));
      document.getElementById("dashboard").classList.remove("hidden");
      document.body.dataset.loadedPeriod = period;
    } catch (error) {
      document.getElementById("dashboard").classList.add("hidden");
      showError(error.message);
    }
  }

  for (const button of document.querySelectorAll("nav button[data-period]")) {
    button.addEventListener("click", () => {
      period = button.dataset.period;
      for (const other of document.querySelectorAll("nav button[data-period]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      load();
    });
  }
  if (!token) {
    showError("Sign in on the console first (supervisors only).");
  } else {
    load();
  }
})();
