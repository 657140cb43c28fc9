// The floor: ask to speak, withdraw, my place in the queue, the speaker's countdown.
import { serverNow } from "../api.js";
import { t } from "../i18n.js";
import * as store from "../store.js";
import { clock, el } from "../ui.js";

export function render(container, app) {
  const status = el("p", { class: "hint", role: "status" });
  let timer = null;

  async function send(command) {
    status.textContent = "";
    try {
      await app.live.command(command);
    } catch (err) {
      status.textContent = err.code === "offline" || err.code === "timeout" ? t("offline_action")
        : err.code === "not_open" ? t("floor_closed") : t("error", { message: err.message });
    }
  }

  function draw() {
    const me = app.state.pairing.participant_id;
    const floor = app.state.floor || { speaking: null, queue: [] };
    const place = floor.queue.findIndex((r) => r.participant_id === me) + 1;
    const speaking = floor.speaking;
    const mine = speaking && speaking.participant_id === me;
    const countdown = el("p", { class: "countdown", "aria-live": "off" });
    const tick = () => {
      if (!speaking || !speaking.ends_at) { countdown.textContent = ""; return; }
      countdown.textContent = t("time_left", { time: clock((Date.parse(speaking.ends_at) - serverNow()) / 1000) });
    };
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    tick();
    container.replaceChildren(el("section", { class: "card floor" },
      el("h1", {}, t("floor_title")),
      el("div", { class: `speaker ${mine ? "me" : ""}` },
        speaking ? el("p", { class: "speaking" }, mine ? t("you_speak") : t("speaking_now", { name: speaking.name }))
          : el("p", { class: "hint" }, t("nobody_speaking")),
        countdown),
      el("p", { class: "my-place" }, place ? t("queue_place", { place }) : mine ? "" : t("not_in_queue")),
      place ? el("button", { class: "big secondary", id: "withdraw", onclick: () => send("floor.withdraw") }, t("withdraw"))
        : mine ? null : el("button", { class: "big primary", id: "request-floor", onclick: () => send("floor.request") }, t("request_floor")),
      status,
      floor.queue.length ? el("div", { class: "queue" }, el("h2", {}, t("queue")),
        el("ol", {}, floor.queue.map((r) => el("li", { class: r.participant_id === me ? "me" : "" }, r.name)))) : null));
  }

  draw();
  const stop = store.subscribe((what) => { if (what === "floor" || what === "snapshot") draw(); });
  return () => { stop(); clearInterval(timer); };
}
