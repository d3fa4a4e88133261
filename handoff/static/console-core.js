// The console page's core: the API client, sign-in and sign-out, the presence heartbeat, the screen reader
// announcer and the crisis sound. The other console scripts (and incidents.js) use these globals.
"use strict";
let token = sessionStorage.getItem("agentToken") || "";
// Admins manage agents and work no conversations: their console never asks for the queue or a transcript.
const worksConversations = () => sessionStorage.getItem("agentRole") !== "admin";
// Supervisors also see every crisis nobody acknowledged in time, and the supervision view.
const supervises = () => sessionStorage.getItem("agentRole") === "supervisor";

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: Object.assign({"Content-Type": "application/json"}, token ? {"Authorization": "Bearer " + token} : {}),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({error: "unreadable response"}));
  if (response.status === 401 && path !== "/api/login") { signOut(); }
  if (!response.ok) {
    const error = new Error(data.error || ("HTTP " + response.status));
    error.status = response.status;
    error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw error;
  }
  return data;
}

const conversationPath = (conversationId, action) =>
  "/api/conversations/" + encodeURIComponent(conversationId) + "/" + action;

function showError(id, error) { document.getElementById(id).textContent = error ? error.message : ""; }

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// The polite live region: screen readers read new patient messages without moving the agent's focus.
function announce(text) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  requestAnimationFrame(() => { announcer.textContent = text; });
}

// A short beep for a crisis alert, made with WebAudio (no sound file). The context is made on the sign-in click,
// a user gesture, so that the browser lets it sound later.
let audio = null;
function prepareSound() {
  if (!audio && window.AudioContext) audio = new AudioContext();
}
function beep() {
  if (!audio) return false;
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.type = "square";
  oscillator.frequency.value = 880;
  gain.gain.value = 0.2;
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start();
  oscillator.stop(audio.currentTime + 0.4);
  return true;
}

function signOut() {
  token = "";
  sessionStorage.removeItem("agentToken"); sessionStorage.removeItem("trainingProblem");
  sessionStorage.removeItem("agentRole"); sessionStorage.removeItem("agentId");
  stopEvents();
  stopHeartbeat();
  forgetConversations();
  for (const id of ["escalations", "incidents", "crisis-alerts", "work", "directory", "supervision", "presence-panel"]) {
    document.getElementById(id).classList.add("hidden");
  }
  showTrainingProblem("");
  document.getElementById("login-panel").classList.remove("hidden");
}

// An agent whose HIPAA training lapsed may sign in but not claim or read: say so, and why, up front.
function showTrainingProblem(problem) {
  const notice = document.getElementById("training-notice");
  notice.textContent = problem ? "You cannot claim or read conversations: " + problem + "." : "";
  notice.classList.toggle("hidden", !problem);
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  prepareSound();
  try {
    const data = await api("POST", "/api/login", {
      agent_id: document.getElementById("agent-id").value,
      password: document.getElementById("password").value,
    });
    token = data.token;
    sessionStorage.setItem("agentToken", token);
    sessionStorage.setItem("trainingProblem", data.agent.training_problem || "");
    sessionStorage.setItem("agentRole", data.agent.role);
    sessionStorage.setItem("agentName", data.agent.name);
    sessionStorage.setItem("agentId", data.agent.id);
    showSignedIn();
  } catch (error) { showError("login-error", error); }
});

async function showDirectory() {
  try {
    const data = await api("GET", "/api/agents");
    const list = document.getElementById("agents");
    list.replaceChildren();
    for (const agent of data.agents) {
      list.append(element("li", "agent", agent.id + " \u00b7 " + agent.name + " \u00b7 " + agent.role + " \u00b7 " +
        agent.languages.join(", ") + " \u00b7 " + agent.skills.join(", ") + " \u00b7 training " +
        (agent.training_problem ? "NOT CURRENT: " + agent.training_problem : agent.hipaa_training)));
    }
  } catch (error) { showError("login-error", error); }
}

function showSignedIn() {
  document.getElementById("login-panel").classList.add("hidden");
  document.getElementById("whoami").textContent = sessionStorage.getItem("agentName") || "";
  refreshIncidents();
  if (!worksConversations()) {
    document.getElementById("directory").classList.remove("hidden");
    showDirectory();
    return;
  }
  document.getElementById("work").classList.remove("hidden");
  document.getElementById("supervision").classList.toggle("hidden", !supervises());
  showTrainingProblem(sessionStorage.getItem("trainingProblem") || "");
  sendHeartbeat();
  showPendingAlerts();
  startEvents();
}

// While this page is open the agent is present: it beats three times per presence timeout (the server says how
// long that is); without heartbeats its conversations go back to the queue. Each beat also tells the agent's
// presence: away (chosen, or set by the server when a new conversation went unanswered) gets no new conversations.
let heartbeat = null;
async function sendHeartbeat(status) {
  clearTimeout(heartbeat);
  let seconds = 10;
  try {
    const presence = await api("POST", "/api/presence", status ? {status} : undefined);
    seconds = Math.max(1, presence.timeout_seconds / 3);
    showPresence(presence.status);
  } catch (error) { showError("work-error", error); }
  if (token) heartbeat = setTimeout(sendHeartbeat, seconds * 1000);
}
function stopHeartbeat() { clearTimeout(heartbeat); heartbeat = null; }

function showPresence(status) {
  const away = status === "away";
  document.getElementById("presence-panel").classList.remove("hidden");
  document.getElementById("presence").textContent = away ? "Away: you get no new conversations" : "Available";
  document.getElementById("presence-toggle").textContent = away ? "Set me available" : "Set me away";
  document.getElementById("presence-toggle").dataset.next = away ? "available" : "away";
}
document.getElementById("presence-toggle").addEventListener("click", (event) =>
  sendHeartbeat(event.currentTarget.dataset.next));
