// The chair's controls, for a tablet in the chair's hands: the next item,
// giving and ending the floor, opening and closing a vote, publishing its
// result. The same modules as the control room, with big touch targets.

import { createLive } from "/static/js/lib/live.js";
import { mountAgenda } from "./agenda.js";
import { act, everySecond, notify, showConnection, t } from "./common.js";
import { mountFloor } from "./floor.js";
import { mountPolls } from "./polls.js";
import { mountSession } from "./session.js";
import { createStore } from "./store.js";

const root = document.getElementById("control-app");
const meetingId = Number(root.dataset.meetingId);
const live = createLive({ auth: { meeting_id: meetingId }, meetingId });
const store = createStore(live);
const ctx = {
  live, store, meetingId,
  command: (name, payload = {}, button = null) => act(button, () => live.command(name, payload)),
};

showConnection(live, document.getElementById("connection"));
mountSession(ctx);
const agenda = mountAgenda(ctx, { list: false });
const floor = mountFloor(ctx, { big: true, reorder: false });
mountPolls(ctx, { big: true, create: false, itemOnly: true });
everySecond(() => { agenda.tick(); floor.tick(); });

const quorum = document.getElementById("quorum");
store.subscribe((what) => {
  if (!["snapshot", "attendance"].includes(what) || !store.state.quorum) return;
  const q = store.state.quorum;
  quorum.className = `quorum ${q.reached ? "reached" : "missing"}`;
  quorum.textContent = `${t(q.reached ? "quorum.reached" : "quorum.missing")} — ${t("quorum.line", q)}`;
});
live.state.subscribe((state, detail) => {
  if (state === "refused") notify(detail?.message || t("conn.refused"), "error");
});
