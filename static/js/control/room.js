// The secretary's control room: one page to run the session.
// Every action is a socket command (live.command) or a REST call; what it
// changed comes back as a live event, so this page and every other screen
// show the same state.

import { mountAgenda, toggleTimer } from "./agenda.js";
import { mountAmendments } from "./amendments.js";
import { boot } from "./boot.js";
import { act, api, everySecond, t, typingIn } from "./common.js";
import { mountDocuments } from "./documents.js";
import { mountFloor } from "./floor.js";
import { mountPeople } from "./people.js";
import { mountPolls } from "./polls.js";

const ctx = boot();
const { meetingId } = ctx;
const agenda = mountAgenda(ctx);
const floor = mountFloor(ctx);
const docs = mountDocuments(ctx);
mountPolls(ctx);
mountPeople(ctx);
mountAmendments(ctx);
everySecond(() => { agenda.tick(); floor.tick(); });

// Message to all tablets -------------------------------------------------------------
const announceForm = document.getElementById("announce-form");
const announceText = document.getElementById("announce-text");
function announce(text, button) {
  return act(button, () => api("POST", `/meetings/${meetingId}/announcements`, { text }),
    t(text ? "announce_sent" : "announce_cleared"));
}
announceForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = announceText.value.trim();
  if (text) announce(text, announceForm.querySelector("button[type=submit]"));
});
document.getElementById("announce-clear").addEventListener("click", (event) => {
  announceText.value = "";
  announce("", event.currentTarget);
});

// Keyboard shortcuts -----------------------------------------------------------------
const shortcuts = document.getElementById("shortcuts");
const toggleShortcuts = document.getElementById("show-shortcuts");
function setShortcuts(open) {
  shortcuts.hidden = !open;
  toggleShortcuts.setAttribute("aria-expanded", String(open));
  if (open) document.getElementById("hide-shortcuts").focus();
}
toggleShortcuts.addEventListener("click", () => setShortcuts(shortcuts.hidden));
document.getElementById("hide-shortcuts").addEventListener("click", () => { setShortcuts(false); toggleShortcuts.focus(); });

const KEYS = {
  n: () => document.getElementById("item-next").click(),
  p: () => document.getElementById("item-previous").click(),
  ArrowRight: () => docs.turn(1),
  ArrowLeft: () => docs.turn(-1),
  g: () => floor.grantFirst(),
  e: () => floor.end(),
  t: () => toggleTimer(ctx),
  m: () => announceText.focus(),
  "?": () => setShortcuts(shortcuts.hidden),
  Escape: () => setShortcuts(false),
};
document.addEventListener("keydown", (event) => {
  if (typingIn(event)) return;
  const action = KEYS[event.key] || KEYS[event.key.toLowerCase()];
  if (!action) return;
  // Arrows keep their usual meaning inside lists of buttons and links.
  if (event.key.startsWith("Arrow") && document.activeElement?.closest("select, [role=listbox]")) return;
  event.preventDefault();
  action();
});
