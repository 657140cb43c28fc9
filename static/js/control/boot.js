// The start shared by the control room and the chair's page: follow the meeting live
// (connect, take the snapshot, stay in sync through live.js and the store), show the
// connection, wire the session bar, and say so when the server refuses the connection.
// A module of its own, not part of common.js: store.js and session.js import common.js,
// so boot() there would make an import cycle.

import { createLive } from "/static/js/lib/live.js";
import { act, notify, showConnection, t } from "./common.js";
import { mountSession } from "./session.js";
import { createStore } from "./store.js";

/** Starts the session screen on #control-app; returns the context its panels mount with. */
export function boot() {
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
  live.state.subscribe((state, detail) => {
    if (state === "refused") notify(detail?.message || t("conn.refused"), "error");
  });
  return ctx;
}
