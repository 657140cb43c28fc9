/**
 * The office's consultation page, live: who has answered, as answers arrive
 * (docs/PROTOCOL.md, `consultation` messages on a consultations-only connection).
 * Labels come from the page (data attributes), so they are translated there.
 */
import { io } from "/vendor/socket.io.esm.min.js";

const root = document.getElementById("members");
const progress = document.getElementById("progress");
if (root && progress) {
  const id = Number(root.dataset.consultation);
  const socket = io({ auth: { consultations: true }, transports: ["websocket"] });
  socket.on("consultation", ({ type, payload }) => {
    if (payload.id !== id) return;
    if (typeof payload.answers_count === "number") {
      progress.textContent = `${payload.answers_count} / ${payload.members_count}`;
    }
    const answered = new Set(payload.answered_by || []);
    for (const item of root.querySelectorAll("li[data-user]")) {
      const state = item.querySelector(".answer-state");
      const done = answered.has(Number(item.dataset.user));
      state.textContent = done ? root.dataset.answered : root.dataset.waiting;
      item.classList.toggle("answered", done);
    }
    if (type === "consultation.closed") window.location.reload();  // shows the tally
  });
}
