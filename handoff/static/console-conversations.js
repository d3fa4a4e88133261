// The agent's conversations, one tab each (WAI-ARIA tabs: arrow keys, Home and End move between them), with an
// unread count that clears when the tab is shown; the transcript with notes, the reply, canned replies, internal
// notes, transfer, escalation to phone, crisis evidence and acknowledgement, hand back and close.
"use strict";
const conversations = new Map();  // conversation id -> its tab, panel and what the page has shown of it
let panelCount = 0;

function forgetConversations() {
  conversations.clear();
  document.getElementById("conversation-tabs").replaceChildren();
  document.getElementById("conversation-panels").replaceChildren();
  document.getElementById("crisis-alert-list").replaceChildren();
  document.getElementById("no-conversation").classList.remove("hidden");
}

function tabLabel(state) {
  const about = [state.conversation.language, state.conversation.skill].filter(Boolean).join(" \u00b7 ");
  state.tab.replaceChildren(element("span", "tab-title", "Conversation " + state.id + (about ? " (" + about + ")" : "")));
  state.tab.classList.toggle("crisis", state.conversation.priority === "crisis");
  if (state.unread > 0) state.tab.append(element("span", "unread", state.unread + " unread"));
}

function openConversation(conversation, select) {
  const existing = conversations.get(conversation.conversation_id);
  if (existing) {
    if (select) selectConversation(existing.id, false);
    return existing;
  }
  panelCount += 1;
  const panel = document.getElementById("conversation-template").content.firstElementChild.cloneNode(true);
  const tab = element("button", "conversation-tab");
  const state = {id: conversation.conversation_id, conversation, tab, panel, shown: 0, unread: 0, loading: false,
                 again: false, loaded: false};
  tab.type = "button";
  tab.setAttribute("role", "tab");
  tab.id = "conversation-tab-" + panelCount;
  tab.dataset.conversation = state.id;
  tab.setAttribute("aria-controls", "conversation-panel-" + panelCount);
  tab.addEventListener("click", () => selectConversation(state.id, true));
  tab.addEventListener("keydown", moveBetweenTabs);
  panel.id = "conversation-panel-" + panelCount;
  panel.dataset.conversation = state.id;
  panel.setAttribute("aria-labelledby", tab.id);
  wirePanel(state);
  tabLabel(state);
  document.getElementById("conversation-tabs").append(tab);
  document.getElementById("conversation-panels").append(panel);
  document.getElementById("no-conversation").classList.add("hidden");
  conversations.set(state.id, state);
  loadCannedReplies(state);
  if (select || conversations.size === 1) selectConversation(state.id, false);
  else showSelection();
  return state;
}

function selectedConversation() {
  return [...conversations.values()].find((state) => state.tab.getAttribute("aria-selected") === "true");
}

function selectConversation(conversationId, focus) {
  for (const state of conversations.values()) state.tab.setAttribute("aria-selected", String(state.id === conversationId));
  const state = conversations.get(conversationId);
  state.unread = 0;
  tabLabel(state);
  showSelection();
  if (focus) state.tab.focus();
}

function showSelection() {
  for (const state of conversations.values()) {
    const isSelected = state.tab.getAttribute("aria-selected") === "true";
    state.tab.tabIndex = isSelected ? 0 : -1;
    state.panel.hidden = !isSelected;
  }
}

function moveBetweenTabs(event) {
  const tabs = [...document.querySelectorAll("#conversation-tabs [role=tab]")];
  const index = tabs.indexOf(event.currentTarget);
  const next = {ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1}[event.key];
  if (next === undefined) return;
  event.preventDefault();
  const target = tabs[(next + tabs.length) % tabs.length];
  selectConversation(target.dataset.conversation, true);
}

function removeConversation(conversationId) {
  const state = conversations.get(conversationId);
  if (!state) return;
  const wasSelected = state.tab.getAttribute("aria-selected") === "true";
  state.tab.remove();
  state.panel.remove();
  conversations.delete(conversationId);
  if (wasSelected && conversations.size > 0) selectConversation(conversations.keys().next().value, false);
  document.getElementById("no-conversation").classList.toggle("hidden", conversations.size > 0);
}

// The conversations the server says are this agent's: new ones open in a tab (auto-assigned, transferred to the
// agent, or claimed elsewhere), ones taken away (transferred, taken over, gone back to the queue) close.
async function showAssignments(assigned) {
  const ids = new Set(assigned.map((conversation) => conversation.conversation_id));
  for (const conversationId of [...conversations.keys()]) {
    if (ids.has(conversationId)) continue;
    removeConversation(conversationId);
    showError("work-error", new Error("Conversation " + conversationId +
      " is no longer yours: it was transferred, taken over, or went back to the queue."));
    sendHeartbeat();  // an unanswered conversation sets the agent away: show it now
  }
  for (const conversation of assigned) {
    if (conversations.has(conversation.conversation_id)) continue;
    const state = openConversation(conversation, false);
    state.panel.querySelector(".answer-deadline").textContent =
      "New conversation for you: write to the patient soon, or it goes back to the queue for the next agent.";
    state.panel.querySelector(".answer-deadline").classList.remove("hidden");
    await refreshTranscript(conversation.conversation_id);
  }
}

async function claimConversation(conversationId) {
  try {
    const claimed = await api("POST", conversationPath(conversationId, "claim"));
    const state = openConversation(claimed.conversation, true);
    const deadline = state.panel.querySelector(".answer-deadline");
    deadline.textContent = "Write to the patient within " + claimed.answer_within_seconds +
      " s, or the conversation goes back to the queue for the next agent.";
    deadline.classList.remove("hidden");
    showError("work-error", null);
    await refreshTranscript(conversationId);
    await refreshQueue();
  } catch (error) { showError("work-error", error); }
}

// One transcript read at a time per conversation; a change announced meanwhile is read right after.
async function refreshTranscript(conversationId) {
  const state = conversations.get(conversationId);
  if (!state || !worksConversations()) return;
  if (state.loading) { state.again = true; return; }
  state.loading = true;
  try {
    do {
      state.again = false;
      await readTranscript(state);
    } while (state.again && conversations.has(conversationId));
  } finally { state.loading = false; }
}

async function readTranscript(state) {
  let data;
  try {
    data = await api("GET", conversationPath(state.id, "transcript") + "?from=" + state.shown);
  } catch (error) {
    if (error.status === 403 || error.status === 404) {
      removeConversation(state.id);
      error.message = "Conversation " + state.id + " went back to the queue: nobody wrote to the patient in time, " +
        "you were away, or it was handed to someone else.";
      sendHeartbeat();
    }
    showError("work-error", error);
    return;
  }
  if (state.shown > 0 && data.from !== state.shown) return;
  state.conversation = data.conversation;
  showConversationFacts(state, data.conversation);
  const box = state.panel.querySelector(".transcript");
  state.shown = data.from + data.entries.length;
  const fromPatient = data.entries.filter((entry) => entry.role === "patient");
  for (const entry of data.entries) {
    const line = element("div", "entry entry-" + entry.role);
    const text = element("span", "text", entry.text);
    text.dir = "auto";
    const who = entry.role === "note" ? "internal note" + (entry.author ? " by " + entry.author : "") : entry.role;
    line.append(element("span", "role role-" + entry.role, who), text);
    box.append(line);
  }
  box.scrollTop = box.scrollHeight;
  if (state.loaded && fromPatient.length > 0) {
    announce("New message from the patient in conversation " + state.id + ": " + fromPatient[fromPatient.length - 1].text);
    if (state.tab.getAttribute("aria-selected") !== "true") state.unread += fromPatient.length;
  }
  state.loaded = true;
  tabLabel(state);
}

function showConversationFacts(state, conversation) {
  const panel = state.panel;
  const crisis = conversation.crisis_category;
  panel.querySelector(".disposition-field").classList.toggle("hidden", !crisis);
  panel.querySelector(".identity").textContent = conversation.verified_via
    ? "Identity verified (" + conversation.verified_via + ") at " + new Date(conversation.verified_at_ms).toLocaleTimeString()
    : "Identity not verified: share no PHI";
  panel.querySelector(".crisis-banner").classList.toggle("hidden", !crisis);
  panel.querySelector(".crisis-text").textContent = crisis ? "Crisis (" + crisis + "): \u201c\u2068" +
    (conversation.crisis_evidence || "") + "\u2069\u201d. The patient has been given 988 and 911." : "";
  panel.querySelector(".acknowledge-crisis").classList.toggle("hidden", !conversation.crisis_alert_pending);
  if (crisis) showAlertEvidence(state.id, conversation.crisis_evidence);
}

async function loadCannedReplies(state) {
  const picker = state.panel.querySelector(".canned-replies");
  try {
    const data = await api("GET", "/api/canned-replies?language=" + encodeURIComponent(state.conversation.language));
    for (const reply of data.replies) {
      const option = element("option", "", reply.title);
      option.value = reply.text;
      picker.append(option);
    }
  } catch (error) {
    picker.disabled = true;
    showError("work-error", error);
  }
}

// Acknowledging a crisis says a person has it in hand; unacknowledged, it reaches the supervisors.
async function acknowledgeCrisis(conversationId) {
  try {
    await api("POST", conversationPath(conversationId, "acknowledge-crisis"));
    showError("work-error", null);
  } catch (error) {
    if (error.status !== 409) { showError("work-error", error); return; }  // 409: someone acknowledged it already
  }
  for (const item of document.querySelectorAll("#crisis-alert-list li")) {
    if (item.dataset.conversation === conversationId) item.remove();
  }
  document.getElementById("crisis-alerts").classList.toggle("hidden",
    document.querySelectorAll("#crisis-alert-list li").length === 0);
  const state = conversations.get(conversationId);
  if (state) state.panel.querySelector(".acknowledge-crisis").classList.add("hidden");
  await refreshEscalations();
}

async function act(state, method, action, body, done) {
  const problem = state.panel.querySelector(".conversation-error");
  try {
    const answer = await api(method, conversationPath(state.id, action), body);
    problem.textContent = "";
    if (done) await done(answer);
  } catch (error) { problem.textContent = error.message; }
}

// A reply has an id the console makes up and keeps while it sends the reply again: a reply whose answer was lost
// (network failure) or that got 503 goes again with it, and the server stores it once. At most REPLY_ATTEMPTS
// attempts within REPLY_RETRY_WITHIN_MS (Retry-After honoured); then the agent sees it failed, and Send sends the same
// reply, with the same id, again. One reply at a time per conversation: the server knows the last id only.
const REPLY_ATTEMPTS = 6;
const REPLY_RETRY_WITHIN_MS = 30000;

function newMessageId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function postReply(state, reply) {
  const deadline = Date.now() + REPLY_RETRY_WITHIN_MS;
  for (let attempt = 1; ; attempt++) {
    let wait = 1000 * 2 ** (attempt - 1);
    try {
      return await api("POST", conversationPath(state.id, "messages"), reply);
    } catch (error) {
      // An answer other than 503 is final (not assigned, too long…); no answer at all or 503 is retried.
      if (error.status !== undefined && error.status !== 503) throw error;
      if (error.retryAfter > 0) wait = error.retryAfter * 1000;
      if (attempt >= REPLY_ATTEMPTS || Date.now() + wait > deadline) throw error;
    }
    showReplyState(state, "Sending again: the connection or the server failed (attempt " + (attempt + 1) + ")…");
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function showReplyState(state, text, failed) {
  const line = state.panel.querySelector(".reply-state");
  line.textContent = text;
  line.classList.toggle("error", Boolean(failed));
}

async function sendReply(state) {
  const field = (selector) => state.panel.querySelector(selector);
  const text = field(".reply").value;
  if (state.sending || !text.trim()) return;
  if (!state.unsent || state.unsent.text !== text) state.unsent = {text, message_id: newMessageId()};
  const reply = state.unsent;
  state.sending = true;
  field(".send-reply").disabled = true;
  showReplyState(state, "Sending…");
  try {
    await postReply(state, reply);
    state.unsent = null;
    showReplyState(state, "");
    field(".conversation-error").textContent = "";
    if (field(".reply").value === text) field(".reply").value = "";
    field(".answer-deadline").classList.add("hidden");
    await refreshTranscript(state.id);
  } catch (error) {
    const retried = error.status === undefined || error.status === 503;
    showReplyState(state, "Not sent: " + error.message + (retried ? ". Press Send to send the same reply again." : ""),
      true);
    if (!retried) state.unsent = null;
  } finally {
    state.sending = false;
    field(".send-reply").disabled = false;
  }
}

// While the agent writes a reply the patient sees "<agent> is typing…": a typing signal every few seconds at most
// (the server refuses more often with 429, which changes nothing and needs no answer).
const TYPING_SIGNAL_EVERY_MS = 3000;

function signalTyping(state, text) {
  const now = Date.now();
  if (!text.trim() || now - (state.typingSignalledAt || 0) < TYPING_SIGNAL_EVERY_MS) return;
  state.typingSignalledAt = now;
  api("POST", conversationPath(state.id, "typing")).catch(() => {});
}

function wirePanel(state) {
  const panel = state.panel;
  const field = (selector) => panel.querySelector(selector);
  field(".reply").addEventListener("input", () => signalTyping(state, field(".reply").value));
  panel.querySelector(".reply-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply(state);
  });
  field(".canned-replies").addEventListener("change", (event) => {
    if (!event.target.value) return;
    field(".reply").value = event.target.value;
    event.target.value = "";
    field(".reply").focus();
  });
  panel.querySelector(".note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(state, "POST", "notes", {text: field(".note").value}, async () => {
      field(".note").value = "";
      await refreshTranscript(state.id);
    });
  });
  panel.querySelector(".transfer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {note: field(".transfer-note").value};
    const agentId = field(".transfer-agent").value.trim();
    if (agentId) body.agent_id = agentId;
    if (field(".transfer-language").value.trim()) body.language = field(".transfer-language").value.trim();
    if (field(".transfer-skill").value) body.skill = field(".transfer-skill").value;
    act(state, "POST", "transfer", body, () => {
      removeConversation(state.id);
      showError("work-error", null);
      announce("Conversation " + state.id + " transferred.");
    });
  });
  panel.querySelector(".phone-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {number: field(".phone-number").value, best_time: field(".phone-best-time").value,
                  note: field(".phone-note").value};
    act(state, "POST", "phone-callback", body, () => {
      field(".conversation-error").textContent = "Phone callback recorded for " + body.number + " (" + body.best_time + ").";
    });
  });
  field(".acknowledge-crisis").addEventListener("click", () => acknowledgeCrisis(state.id));
  field(".back-to-bot").addEventListener("click", () => endConversation(state, "bot"));
  field(".close").addEventListener("click", () => endConversation(state, "closed"));
}

function endConversation(state, outcome) {
  const body = {outcome};
  const disposition = state.panel.querySelector(".crisis-disposition").value;
  if (disposition) body.crisis_disposition = disposition;
  return act(state, "POST", "close", body, () => { removeConversation(state.id); showError("work-error", null); });
}

// A crisis alert: assertive, with a beep, CALL BY PHONE and the evidence (once the transcript is read), until a
// person acknowledges it.
async function showCrisisAlert(conversationId, category) {
  const list = document.getElementById("crisis-alert-list");
  if (![...list.children].some((item) => item.dataset.conversation === conversationId)) {
    const item = element("li", "crisis-alert");
    item.dataset.conversation = conversationId;
    item.append(element("strong", "call-by-phone", "CALL BY PHONE"),
      element("span", "", "CRISIS (" + category + ") in conversation " + conversationId +
        ": the patient was given 988 and 911. Respond now."),
      element("span", "evidence hidden"));
    const acknowledge = element("button", "acknowledge", "Acknowledge crisis alert");
    acknowledge.type = "button";
    acknowledge.addEventListener("click", () => acknowledgeCrisis(conversationId));
    item.append(acknowledge);
    list.append(item);
    item.dataset.sounded = String(beep());
  }
  document.getElementById("crisis-alerts").classList.remove("hidden");
  await refreshTranscript(conversationId);
}

function showAlertEvidence(conversationId, evidence) {
  for (const item of document.querySelectorAll("#crisis-alert-list li")) {
    if (item.dataset.conversation !== conversationId || !evidence) continue;
    const shown = item.querySelector(".evidence");
    shown.textContent = "\u201c\u2068" + evidence + "\u2069\u201d";
    shown.classList.remove("hidden");
  }
}

// Alerts raised before the page opened, not yet acknowledged (the event socket tells only new ones).
async function showPendingAlerts() {
  try {
    const data = await api("GET", "/api/alerts?after=0");
    for (const alert of data.alerts) {
      if (!alert.acknowledged) await showCrisisAlert(alert.conversation, alert.category);
    }
  } catch (error) { showError("work-error", error); }
}
