// The notes page: plain JavaScript against the API the page is served with (no libraries).
"use strict";

const api = document.querySelector("main").dataset.api;
const $ = (sel) => document.querySelector(sel);
const keyInput = $("#key");
let source = null;

function headers(extra = {}) {
  return { "x-api-key": keyInput.value, ...extra };
}

function showError(message) {
  const p = $("#error");
  p.textContent = message || "";
  p.hidden = !message;
}

async function call(method, path, body) {
  const init = { method, headers: headers(body ? { "content-type": "application/json" } : {}) };
  if (body) init.body = JSON.stringify(body);
  const r = await fetch(api + path, init);
  if (r.status === 204) return null;
  const data = await r.json();
  if (!r.ok) {
    const detail = Array.isArray(data.detail) ? data.detail.map((e) => `${e.loc.join(".")}: ${e.msg}`).join("; ")
                                              : data.detail;
    throw new Error(`${r.status}: ${detail}`);
  }
  return data;
}

function noteItem(note) {
  const li = document.createElement("li");
  li.dataset.id = note.id;
  li.className = note.done ? "done" : "";
  const done = document.createElement("input");
  done.type = "checkbox";
  done.checked = note.done;
  done.onchange = () => call("PATCH", `/notes/${note.id}`, { done: done.checked }).then(load, (e) => showError(e.message));
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = note.title;
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = note.body;
  const del = document.createElement("button");
  del.className = "link";
  del.textContent = "delete";
  del.onclick = () => call("DELETE", `/notes/${note.id}`).then(load, (e) => showError(e.message));
  li.append(done, title, ...note.tags.map((t) => Object.assign(document.createElement("span"), { className: "tag", textContent: t })), body, del);
  return li;
}

async function load() {
  try {
    const q = $("#search").value.trim();
    const notes = await call("GET", "/notes" + (q ? `?q=${encodeURIComponent(q)}` : ""));
    $("#notes").replaceChildren(...notes.map(noteItem));
    showError("");
  } catch (e) {
    $("#notes").replaceChildren();
    showError(e.message);
  }
}

function listen() {
  if (source) source.close();
  const badge = $("#live");
  badge.textContent = "offline";
  badge.className = "badge off";
  source = new EventSource(`${api}/events?api_key=${encodeURIComponent(keyInput.value)}`);
  source.addEventListener("ready", () => { badge.textContent = "live"; badge.className = "badge on"; });
  for (const kind of ["created", "updated", "deleted"]) {
    source.addEventListener(kind, (ev) => {
      const note = JSON.parse(ev.data);
      const li = document.createElement("li");
      li.textContent = `${new Date().toLocaleTimeString()} ${kind} #${note.id}${note.title ? " " + note.title : ""}`;
      $("#events").prepend(li);
      load();
    });
  }
  source.onerror = () => { badge.textContent = "offline"; badge.className = "badge off"; };
}

$("#new").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const tags = form.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
  try {
    await call("POST", "/notes", { title: form.title.value, body: form.body.value, tags });
    form.reset();
    load();
  } catch (e) {
    showError(e.message);
  }
});

$("#refresh").addEventListener("click", async () => {
  try {
    $("#overview").textContent = JSON.stringify(await call("GET", "/overview"), null, 2);
  } catch (e) {
    $("#overview").textContent = e.message;
  }
});

$("#search").addEventListener("input", load);
keyInput.addEventListener("change", () => { load(); listen(); });
load();
listen();
