// The floor: who speaks (with the countdown), the queue, granting and ending.

import { clock, el, replace, speechElapsed, speechLeft, t } from "./common.js";

export function countdownText(speech, skewMs) {
  const left = speechLeft(speech, skewMs);
  if (left === null) return { text: clock(speechElapsed(speech, skewMs)), over: false };
  return { text: clock(left), over: left < 0 };
}

export function mountFloor(ctx, { big = false, reorder = true } = {}) {
  const { store } = ctx;
  const speakerBox = document.getElementById("speaker");
  const queueList = document.getElementById("queue");
  const limitInput = document.getElementById("time-limit");
  const grantNext = document.getElementById("grant-next");
  const endButton = document.getElementById("end-speech");
  let countdown = null;

  function limitSeconds() {
    if (!limitInput || limitInput.value === "") return undefined;
    const minutes = Math.max(0, Math.min(240, Number(limitInput.value)));
    return Number.isFinite(minutes) ? Math.round(minutes * 60) : undefined;
  }

  function grant(requestId, button) {
    const payload = { request_id: requestId };
    const limit = limitSeconds();
    if (limit !== undefined) payload.time_limit_seconds = limit;
    return ctx.command("floor.grant", payload, button);
  }

  function grantFirst(button) {
    const first = store.state.floor.queue[0];
    if (first) grant(first.request_id, button);
  }

  function end(button) {
    if (store.state.floor.speaking) ctx.command("floor.end", {}, button);
  }

  grantNext?.addEventListener("click", () => grantFirst(grantNext));
  endButton?.addEventListener("click", () => end(endButton));

  function move(index, step) {
    const ids = store.state.floor.queue.map((r) => r.request_id);
    const [id] = ids.splice(index, 1);
    ids.splice(index + step, 0, id);
    ctx.command("floor.reorder", { request_ids: ids });
  }

  function render() {
    const { speaking, queue } = store.state.floor;
    speakerBox.classList.toggle("active", Boolean(speaking));
    if (speaking) {
      countdown = el("div", { class: "countdown", id: "speech-countdown", role: "timer" });
      const limit = speaking.time_limit_seconds ? clock(speaking.time_limit_seconds) : t("no_limit");
      replace(speakerBox, el("div", { class: "muted" }, t("speaking")),
        el("div", { class: "name", id: "speaker-name" }, speaking.name), countdown,
        el("div", { class: "muted" }, limit));
    } else {
      countdown = null;
      replace(speakerBox, el("div", { class: "muted", id: "speaker-name" }, t("nobody_speaking")));
    }
    if (endButton) endButton.disabled = !speaking;
    if (grantNext) grantNext.disabled = queue.length === 0;
    if (!queue.length) {
      replace(queueList, el("li", { class: "muted" }, t("queue_empty")));
    } else {
      replace(queueList, queue.map((request, index) => {
        const grantButton = el("button", { type: "button", class: big ? "btn" : "btn small",
          "aria-label": `${t("grant")}: ${request.name}` }, t("grant"));
        grantButton.addEventListener("click", () => grant(request.request_id, grantButton));
        const controls = [grantButton];
        if (reorder) {
          const up = el("button", { type: "button", class: "icon-btn", title: t("move_up"), "aria-label": `${t("move_up")}: ${request.name}`, disabled: index === 0 }, "↑");
          up.addEventListener("click", () => move(index, -1));
          const down = el("button", { type: "button", class: "icon-btn", title: t("move_down"), "aria-label": `${t("move_down")}: ${request.name}`, disabled: index === queue.length - 1 }, "↓");
          down.addEventListener("click", () => move(index, 1));
          const remove = el("button", { type: "button", class: "icon-btn", title: t("remove"), "aria-label": `${t("remove")}: ${request.name}` }, "✕");
          remove.addEventListener("click", () => ctx.command("floor.cancel", { request_id: request.request_id }, remove));
          controls.push(up, down, remove);
        }
        return el("li", { dataset: { requestId: request.request_id } },
          el("span", { class: "pos" }, `${index + 1}.`), el("span", { class: "name" }, request.name), controls);
      }));
    }
    tick();
  }

  function tick() {
    const speaking = store.state.floor.speaking;
    if (!countdown || !speaking) return;
    const { text, over } = countdownText(speaking, store.state.skewMs);
    countdown.textContent = text;
    countdown.classList.toggle("over", over);
  }

  store.subscribe((what) => { if (["snapshot", "floor"].includes(what)) render(); });
  return { tick, grantFirst: () => grantFirst(grantNext), end: () => end(endButton) };
}
