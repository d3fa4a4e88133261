// The waiting list (claim), and for supervisors the escalated crises and the supervision view: every queue with
// its waiting count and longest wait, every agent with presence and load, take-over and reassignment.
"use strict";

let queueReads = 0;  // an answer older than the newest read started is dropped: the list never steps back

async function refreshQueue() {
  if (!token || !worksConversations()) return;
  const read = ++queueReads;
  try {
    const data = await api("GET", "/api/queue");
    if (read !== queueReads) return;
    const list = document.getElementById("queue");
    list.replaceChildren();
    for (const task of data.waiting) {
      const item = element("li", "task");
      item.dataset.conversation = task.conversation_id;
      const flags = (task.phone_follow_up ? " \u00b7 CALL BY PHONE" : "") +
        (task.fallback_language ? " \u00b7 NO " + task.language.toUpperCase() + " AGENT: patient writes " +
          task.language + ", use an interpreter" : "");
      const label = element("span", "priority-" + task.priority,
        "#" + task.position + " " + task.language + " \u00b7 " + task.skill + " \u00b7 " + task.priority +
        " \u00b7 " + task.reason + flags);
      const claim = element("button", "claim", "Claim");
      claim.type = "button";
      claim.addEventListener("click", () => claimConversation(task.conversation_id));
      item.append(label, claim);
      list.append(item);
    }
    document.getElementById("queue-empty").classList.toggle("hidden", data.waiting.length > 0);
  } catch (error) { showError("work-error", error); }
}

async function refreshEscalations() {
  if (!token || !supervises()) return;
  try {
    const data = await api("GET", "/api/escalations");
    const list = document.getElementById("escalation-list");
    list.replaceChildren();
    for (const crisis of data.escalations) {
      const item = element("li", "escalation");
      item.dataset.conversation = crisis.conversation_id;
      const where = crisis.state === "QUEUED" ? "waiting in the " + crisis.language + " queue" :
        "with agent " + crisis.agent_id + ", who has not acknowledged it";
      const since = Math.round((Date.now() - crisis.raised_at_ms) / 1000);
      item.append(element("span", "", "CRISIS (" + crisis.crisis_category + ") in conversation " +
        crisis.conversation_id + ", " + where + ", for " + since + " s. Call the patient."));
      const acknowledge = element("button", "acknowledge", "Acknowledge");
      acknowledge.addEventListener("click", () => acknowledgeCrisis(crisis.conversation_id));
      item.append(acknowledge);
      if (crisis.state === "QUEUED") {
        const claim = element("button", "claim", "Claim");
        claim.addEventListener("click", () => claimConversation(crisis.conversation_id));
        item.append(claim);
      }
      list.append(item);
    }
    document.getElementById("escalations").classList.toggle("hidden", data.escalations.length === 0);
  } catch (error) { showError("work-error", error); }
}

const minutesAndSeconds = (ms) => Math.floor(ms / 60000) + " min " + Math.floor((ms % 60000) / 1000) + " s";

function tableRow(cells, className) {
  const row = element("tr", className || "");
  for (const cell of cells) row.append(element("td", "", String(cell)));
  return row;
}

async function refreshSupervision() {
  if (!token || !supervises()) return;
  try {
    const data = await api("GET", "/api/supervision");
    const queues = document.querySelector("#supervision-queues tbody");
    queues.replaceChildren(...data.queues.map((queue) => {
      const row = tableRow([queue.language, queue.waiting, queue.waiting ? minutesAndSeconds(queue.longest_wait_ms) : "-"],
        queue.waiting ? "has-waiting" : "");
      row.dataset.queue = queue.language;
      return row;
    }));
    const agents = document.querySelector("#supervision-agents tbody");
    agents.replaceChildren(...data.agents.map((agent) => {
      const row = tableRow([agent.name + " (" + agent.agent_id + ")", agent.presence,
        agent.conversations + " of " + agent.capacity]);
      row.dataset.agent = agent.agent_id;
      return row;
    }));
  } catch (error) { showError("work-error", error); }
}

async function supervise(action) {
  const conversationId = document.getElementById("supervised-conversation").value.trim();
  const body = {note: document.getElementById("supervisor-note").value};
  if (action === "reassign") body.agent_id = document.getElementById("reassign-agent").value.trim();
  try {
    const moved = await api("POST", conversationPath(conversationId, action), body);
    showError("work-error", null);
    if (action === "take-over") {
      openConversation(moved.conversation, true);
      await refreshTranscript(conversationId);
    }
    await refreshSupervision();
  } catch (error) { showError("work-error", error); }
}

document.getElementById("refresh-supervision").addEventListener("click", refreshSupervision);
document.getElementById("supervisor-form").addEventListener("submit", (event) => {
  event.preventDefault();
  supervise("take-over");
});
document.getElementById("reassign").addEventListener("click", () => {
  if (document.getElementById("supervisor-form").reportValidity()) supervise("reassign");
});
