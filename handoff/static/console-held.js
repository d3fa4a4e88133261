// The conversations agents hold (supervisors; GET /api/supervision/held, audited): per agent, each conversation's
// short id, language, skill, priority or CRISIS, how long since its agent got it and since the agent last wrote, and
// how many patient messages wait for a person; no message text, no patient name. Take over, or Reassign to an
// available person with its language and skill, act on the holder shown (from_agent_id): when the conversation
// moved meanwhile, the console refuses and says so. The list is read again when the event socket says it changed.
"use strict";
let heldReads = 0;  // an answer older than the newest read started is dropped
let serverClockOffset = 0;  // the console's clock minus the page's, so that durations count on the console's clock

async function refreshHeld() {
  if (!token || !supervises()) return;
  const read = ++heldReads;
  try {
    const data = await api("GET", "/api/supervision/held");
    if (read !== heldReads) return;
    serverClockOffset = data.now_ms - Date.now();
    const rows = data.agents.flatMap((agent) => agent.conversations.map((held) => heldRow(agent, held)));
    document.querySelector("#held-conversations tbody").replaceChildren(...rows);
    document.getElementById("held-empty").classList.toggle("hidden", rows.length > 0);
    tickHeld();
  } catch (error) { showError("work-error", error); }
}

function durationCell(className, fromMs) {
  const cell = element("td", className);
  cell.dataset.from = fromMs === null ? "" : String(fromMs);
  return cell;
}

function heldRow(agent, held) {
  const row = element("tr", held.crisis ? "held-crisis" : "");
  row.dataset.conversation = held.conversation_id;
  row.dataset.agent = agent.agent_id;
  const what = [held.short_id, held.language, held.skill, held.crisis ? "CRISIS" : held.priority].join(" \u00b7 ");
  row.append(element("td", "", agent.name + " (" + agent.agent_id + ", " + agent.presence + ")"),
    element("td", "held-what", what), durationCell("since-claim", held.claimed_at_ms),
    durationCell("since-agent-wrote", held.last_agent_message_at_ms),
    element("td", "unanswered", String(held.unanswered_patient_messages)));
  const actions = element("td", "held-actions");
  if (agent.agent_id !== sessionStorage.getItem("agentId")) {
    const takeOver = element("button", "take-over-held", "Take over");
    takeOver.type = "button";
    takeOver.setAttribute("aria-label", "Take over " + held.short_id + " from " + agent.agent_id);
    takeOver.addEventListener("click", () => actOnHeld(held, "take-over"));
    actions.append(takeOver);
  }
  const target = element("select", "reassign-to");
  target.setAttribute("aria-label", "Reassign " + held.short_id + " to");
  target.append(element("option", "", held.reassign_to.length ? "choose an agent" : "nobody available can take it"));
  target.options[0].value = "";
  for (const taker of held.reassign_to) {
    const option = element("option", "", taker.name + " (" + taker.agent_id + ", " + taker.conversations + " of " +
      taker.capacity + ")");
    option.value = taker.agent_id;
    target.append(option);
  }
  const reassign = element("button", "reassign-held", "Reassign");
  reassign.type = "button";
  reassign.setAttribute("aria-label", "Reassign " + held.short_id + " from " + agent.agent_id);
  reassign.addEventListener("click", () => {
    if (target.value) actOnHeld(held, "reassign", target.value);
    else showError("work-error", new Error("Choose who gets " + held.short_id + " first."));
  });
  actions.append(target, reassign);
  row.append(actions);
  return row;
}

async function actOnHeld(held, action, targetId) {
  const body = {from_agent_id: held.agent_id, note: document.getElementById("supervisor-note").value};
  if (targetId) body.agent_id = targetId;
  try {
    const moved = await api("POST", conversationPath(held.conversation_id, action), body);
    showError("work-error", null);
    if (action === "take-over") {
      openConversation(moved.conversation, true);
      await refreshTranscript(held.conversation_id);
    } else if (held.agent_id === sessionStorage.getItem("agentId")) {
      // The socket may never tell: taken over and handed on within one of its rounds, nothing changed for it.
      removeConversation(held.conversation_id);
    }
  } catch (error) { showError("work-error", error); }
  await refreshHeld();
}

// Durations count on between reads: "since claim" and "since the agent last wrote" (or "not yet").
function tickHeld() {
  const now = Date.now() + serverClockOffset;
  for (const cell of document.querySelectorAll("#held-conversations td[data-from]")) {
    cell.textContent = cell.dataset.from ? minutesAndSeconds(Math.max(0, now - Number(cell.dataset.from))) : "not yet";
  }
}

setInterval(tickHeld, 1000);
