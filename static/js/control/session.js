// The session bar: its state, and open / pause / resume / adjourn; the banner
// showing the message sent to all tablets.

import { t } from "./common.js";

const BUTTONS = {
  "session-open": ["not_started"],
  "session-pause": ["open"],
  "session-resume": ["paused"],
  "session-adjourn": ["open", "paused"],
};

export function mountSession(ctx) {
  const { store } = ctx;
  const badge = document.getElementById("session-state");
  const banner = document.getElementById("announcement-banner");
  const title = document.getElementById("meeting-title");

  for (const id of Object.keys(BUTTONS)) {
    const button = document.getElementById(id);
    button?.addEventListener("click", () => {
      if (id === "session-adjourn" && !window.confirm(t("confirm.adjourn"))) return;
      ctx.command(button.dataset.command, {}, button);
    });
  }

  function render() {
    const state = store.state.session?.state || "not_started";
    badge.dataset.state = state;
    badge.textContent = t(`session.${state}`);
    for (const [id, states] of Object.entries(BUTTONS)) {
      const button = document.getElementById(id);
      if (button) button.hidden = !states.includes(state);
    }
    if (store.state.meeting?.title && title) title.textContent = store.state.meeting.title;
    if (banner) {
      banner.hidden = !store.state.announcement;
      banner.textContent = store.state.announcement?.text || "";
    }
  }

  store.subscribe((what) => {
    if (["snapshot", "session", "meeting", "announcement"].includes(what)) render();
  });
}
