// The chair's controls, for a tablet in the chair's hands: the next item,
// giving and ending the floor, opening and closing a vote, publishing its
// result. The same modules as the control room, with big touch targets.

import { mountAgenda } from "./agenda.js";
import { boot } from "./boot.js";
import { everySecond, t } from "./common.js";
import { mountFloor } from "./floor.js";
import { mountPolls } from "./polls.js";

const ctx = boot();
const { store } = ctx;
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
