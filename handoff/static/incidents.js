// The security incident banner of the console page (supervisors and admins): unacknowledged incidents from
// GET /api/incidents?unacknowledged=1, each with an Acknowledge button. Loaded after console-core.js,
// whose api(), element(), showError() and token it uses when called.
const INCIDENT_MEANINGS = {
  audit_chain_broken: "the audit log was altered, reordered, truncated or deleted",
  login_flood: "console sign-in was throttled after repeated wrong passwords",
  patient_credential_flood: "a burst of patient requests with wrong or expired credentials",
  undecryptable_data: "stored PHI failed to decrypt (altered, moved, or its key is missing)",
};
const overseesSecurity = () => ["supervisor", "admin"].includes(sessionStorage.getItem("agentRole"));

async function refreshIncidents() {
  if (!token || !overseesSecurity()) return;
  try {
    const data = await api("GET", "/api/incidents?unacknowledged=1");
    const list = document.getElementById("incident-list");
    list.replaceChildren();
    for (const incident of data.incidents) {
      const item = element("li", "incident");
      item.dataset.incident = incident.id;
      const details = Object.entries(incident.details).map(([name, value]) => name + "=" + value).join(", ");
      item.append(element("span", "", incident.kind + ": " + (INCIDENT_MEANINGS[incident.kind] || "") + " (" +
        new Date(incident.detected_at_ms).toISOString() + ", " + incident.occurrences + " detections; " +
        details + ") "));
      const acknowledge = element("button", "acknowledge-incident", "Acknowledge");
      acknowledge.addEventListener("click", () => acknowledgeIncident(incident.id));
      item.append(acknowledge);
      list.append(item);
    }
    document.getElementById("incidents").classList.toggle("hidden", data.incidents.length === 0);
  } catch (error) { showError(worksConversations() ? "work-error" : "login-error", error); }
}

async function acknowledgeIncident(incidentId) {
  try {
    await api("POST", "/api/incidents/" + encodeURIComponent(incidentId) + "/acknowledge");
  } catch (error) {
    if (error.status !== 409) { showError(worksConversations() ? "work-error" : "login-error", error); return; }
  }
  await refreshIncidents();
}

setInterval(refreshIncidents, 5000);
