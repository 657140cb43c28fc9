// The agenda: the current item, moving through the items, and the item's clock.

import { clock, el, replace, t, timerSeconds } from "./common.js";

function timerActions(timer) {
  if (!timer || !timer.started_at) return ["start"];
  if (timer.running_since) return ["pause", "reset"];
  return ["resume", "reset"];
}

/** The item clock's next action for the T shortcut. */
export function toggleTimer(ctx) {
  const item = ctx.store.currentItem();
  if (!item) return;
  const [action] = timerActions(item.timer);
  ctx.command(`timer.${action}`, { item_id: item.id });
}

export function mountAgenda(ctx, { list = true } = {}) {
  const { store } = ctx;
  const current = document.getElementById("current-item");
  const timerBox = document.getElementById("item-timer");
  const agendaList = document.getElementById("agenda-list");
  const next = document.getElementById("item-next");
  const previous = document.getElementById("item-previous");
  let clockNode = null;

  next?.addEventListener("click", () => ctx.command("item.next", {}, next));
  previous?.addEventListener("click", () => ctx.command("item.previous", {}, previous));

  function renderCurrent() {
    const item = store.currentItem();
    replace(current, item
      ? [el("span", { class: "muted" }, t("current")), `${item.number}. ${item.title}`,
        item.presenter ? el("span", { class: "muted" }, item.presenter) : null]
      : el("span", { class: "muted" }, t("no_item")));
    const live = ["open", "paused"].includes(store.state.session?.state);
    if (next) next.disabled = !live;
    if (previous) previous.disabled = !live;
    if (!timerBox) return;
    if (!item) { replace(timerBox); clockNode = null; return; }
    clockNode = el("span", { class: "clock", id: "item-clock", "aria-label": t("timer.start") });
    const buttons = timerActions(item.timer).map((action) => {
      const button = el("button", { type: "button", class: "btn small secondary", dataset: { timer: action } },
        t(`timer.${action}`));
      button.addEventListener("click", () => ctx.command(`timer.${action}`, { item_id: item.id }, button));
      return button;
    });
    const planned = item.planned_minutes ? el("span", { class: "muted" }, t("planned", { min: item.planned_minutes })) : null;
    replace(timerBox, clockNode, buttons, planned);
    tick();
  }

  function tick() {
    const item = store.currentItem();
    if (!clockNode || !item) return;
    const seconds = timerSeconds(item.timer, store.state.skewMs);
    clockNode.textContent = clock(seconds);
    clockNode.classList.toggle("over", Boolean(item.planned_minutes && seconds > item.planned_minutes * 60));
  }

  function renderList() {
    if (!list || !agendaList) return;
    const live = ["open", "paused"].includes(store.state.session?.state);
    replace(agendaList, store.state.agenda.map((item) => {
      const isCurrent = item.id === store.state.currentItemId;
      const button = el("button", { type: "button", class: "btn small secondary", disabled: isCurrent || !live,
        "aria-label": `${t("set_current")}: ${item.number}. ${item.title}` }, t("set_current"));
      button.addEventListener("click", () => ctx.command("item.set", { item_id: item.id }, button));
      return el("li", {
        class: [isCurrent ? "current" : "", item.done_at ? "done" : ""].join(" ").trim() || null,
        dataset: { itemId: item.id }, "aria-current": isCurrent ? "step" : null,
      }, el("span", { class: `num depth-${Math.min(item.depth, 2)}` }, item.number),
      el("span", { class: "title" }, item.title), button);
    }));
  }

  store.subscribe((what) => {
    if (["snapshot", "item", "timer", "session"].includes(what)) { renderCurrent(); renderList(); }
  });
  return { tick };
}
