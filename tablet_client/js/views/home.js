// Home: my meeting, the live agenda (current item highlighted), session, attendance, quorum.
import { ApiError, api } from "../api.js";
import { t } from "../i18n.js";
import * as store from "../store.js";
import { el, toast } from "../ui.js";

function agendaList(nodes, currentId) {
  if (!nodes.length) return null;
  return el("ol", { class: "agenda" }, nodes.map((node) => el("li", {
    class: node.id === currentId ? "current" : node.done_at ? "done" : "",
    dataset: { itemId: node.id },
    "aria-current": node.id === currentId ? "step" : false,
  },
  el("div", { class: "item-line" },
    el("span", { class: "number" }, node.number),
    el("span", { class: "title" }, node.title),
    node.id === currentId ? el("span", { class: "badge now" }, t("current_item")) : null),
  node.presenter ? el("div", { class: "presenter" }, node.presenter) : null,
  agendaList(node.children || [], currentId))));
}

async function checkIn(app, code, status) {
  try {
    await api(`/meetings/${app.state.pairing.meeting_id}/check-in`, { method: "POST", body: { door_token: code } });
    status.textContent = t("checked_in");
  } catch (err) {
    status.textContent = err instanceof ApiError && err.offline ? t("offline_action") : t("error", { message: err.message });
  }
}

export function render(container, app) {
  const pending = sessionStorage.getItem("hemicycle.checkin");
  if (pending) {
    sessionStorage.removeItem("hemicycle.checkin");
    api(`/meetings/${app.state.pairing.meeting_id}/check-in`, { method: "POST", body: { door_token: pending } })
      .then(() => toast(t("checked_in"))).catch((err) => toast(t("error", { message: err.message })));
  }

  function draw() {
    const s = app.state;
    const person = store.me();
    const sessionState = s.session?.state || "not_started";
    const quorum = s.quorum;
    const attendance = person?.attendance || "absent";
    const checkStatus = el("p", { class: "hint", role: "status" });
    const code = el("input", { id: "door-code", class: "wide", "aria-label": t("door_code"), placeholder: t("door_code") });
    const presented = s.presented && s.documents.find((d) => d.id === s.presented.document_id);
    container.replaceChildren(
      el("section", { class: "card meeting-card" },
        el("h1", {}, s.meeting?.title || ""),
        el("p", { class: "meta" }, [s.meeting?.body, s.meeting?.place].filter(Boolean).join(" · ")),
        person ? el("p", { class: "welcome" }, t("welcome", { name: person.name })) : null,
        el("p", { class: `session-state state-${sessionState}` },
          t("session_state", { state: t(`state_${sessionState}`) })),
        presented ? el("div", { class: "presented-banner" },
          el("span", {}, t("presented_now", { title: presented.title, page: s.presented.page })),
          el("button", { class: "primary", onclick: () => { app.follow = true; app.navigate(`#doc/${presented.id}/${s.presented.page}`); } },
            t("open_presented"))) : null),
      el("div", { class: "columns" },
        el("section", { class: "card agenda-card" }, el("h2", {}, t("agenda")),
          agendaList(s.agenda || [], s.current_item_id) || el("p", { class: "hint" }, t("no_agenda"))),
        el("section", { class: "card attendance-card" }, el("h2", {}, t("attendance")),
          el("p", { class: `attendance-state att-${attendance}` }, t(attendance)),
          quorum ? el("p", { class: quorum.reached ? "quorum ok" : "quorum missing" },
            t("quorum", quorum), " — ", t(quorum.reached ? "quorum_ok" : "quorum_missing")) : null,
          attendance !== "present" ? el("form", {
            class: "checkin",
            onsubmit: (event) => { event.preventDefault(); if (code.value.trim()) checkIn(app, code.value.trim(), checkStatus); },
          }, code, el("button", { type: "submit", class: "primary" }, t("check_in"))) : null,
          checkStatus)));
  }

  draw();
  return store.subscribe(draw);
}
