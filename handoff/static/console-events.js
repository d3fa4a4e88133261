// The console's real time: GET /api/events (a websocket; the token goes in the first message). Events carry no
// message content: the page fetches what changed through the REST API. When the socket drops, the page says it is
// offline and reconnects with growing delays (1 s, 2 s, 4 s ... 30 s); each new socket first tells the state as it
// is, so nothing that happened meanwhile is missed (a socket the console closes with 1011 after a failed round
// reconnects the same way). There is no polling.
"use strict";
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MOST_MS = 30000;
const SESSION_ENDED = 1008;
let events = null;
let reconnectDelay = RECONNECT_FIRST_MS;
let reconnectTimer = null;
let handling = Promise.resolve();  // events are handled one after another, in the order they came

function startEvents() {
  clearTimeout(reconnectTimer);
  const address = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/events";
  const socket = new WebSocket(address);
  events = socket;
  socket.addEventListener("open", () => socket.send(JSON.stringify({token})));
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.error) return;
    reconnectDelay = RECONNECT_FIRST_MS;
    showConnection("");
    handling = handling.then(() => handleEvent(event).catch((error) => showError("work-error", error)));
  });
  socket.addEventListener("close", (closed) => {
    if (events !== socket) return;
    events = null;
    if (!token) return;
    if (closed.code === SESSION_ENDED) { signOut(); return; }
    const delay = reconnectDelay;
    reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MOST_MS);
    showConnection("Offline: live updates stopped, reconnecting in " + Math.round(delay / 1000) + " s");
    reconnectTimer = setTimeout(startEvents, delay);
  });
}

function stopEvents() {
  clearTimeout(reconnectTimer);
  const socket = events;
  events = null;
  if (socket) socket.close();
  showConnection("");
}

function showConnection(problem) {
  const status = document.getElementById("connection");
  status.textContent = problem;
  status.classList.toggle("hidden", !problem);
  document.body.dataset.connection = problem ? "offline" : "online";
}

async function handleEvent(event) {
  if (event.type === "queue") {
    await refreshQueue();
    if (supervises()) await refreshSupervision();
  } else if (event.type === "assignments") {
    await showAssignments(event.conversations);
    if (supervises()) await refreshSupervision();
  } else if (event.type === "conversation_updated") {
    await refreshTranscript(event.conversation_id);
  } else if (event.type === "crisis_alert") {
    await showCrisisAlert(event.conversation_id, event.category);
  } else if (event.type === "escalations") {
    await refreshEscalations();
  } else if (event.type === "held") {
    await refreshHeld();
    await refreshSupervision();
  }
}

if (token) showSignedIn();
