// Amendments from the tablet (docs/DRAFTS.md): the meeting's draft texts with their
// numbered lines; tap the first and the last line to amend, write the new text and the
// reasons, table it. The amendments tabled so far are listed with where they stand;
// draft_text.changed keeps the view current.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { el } from "../ui.js";

function diff(runs) {
  return el("div", { class: "dt-diff" }, (runs || []).map((r) => (r.op === "del" ? el("del", {}, r.text)
    : r.op === "ins" ? el("ins", {}, r.text) : r.text)));
}

export function render(container, app) {
  const meetingId = app.state.pairing.meeting_id;
  let drafts = [];
  const pick = {}; // draft id -> {from, to}
  const status = el("p", { class: "hint", role: "status", id: "amend-status" });

  async function load() {
    try {
      drafts = await api(`/meetings/${meetingId}/draft-texts`);
      draw();
    } catch (err) {
      status.textContent = err.offline ? t("offline_action") : t("error", { message: err.message });
    }
  }

  function tap(draft, number) {
    const range = pick[draft.id];
    if (!range || range.to !== range.from || number < range.from) pick[draft.id] = { from: number, to: number };
    else range.to = number;
    draw();
  }

  async function table(draft, form) {
    const range = pick[draft.id];
    if (!range) { status.textContent = t("amend_pick_first"); return; }
    const data = new FormData(form);
    status.textContent = "";
    try {
      const made = await api(`/draft-texts/${draft.id}/amendments`, { method: "POST", body: {
        line_from: range.from, line_to: range.to, new_text: data.get("new_text"), reasons: data.get("reasons").trim(),
      } });
      delete pick[draft.id];
      status.textContent = t("amend_tabled", { n: made.number });
      await load();
    } catch (err) {
      status.textContent = err.offline ? t("offline_action") : t("error", { message: err.message });
    }
  }

  function draftCard(draft) {
    const range = pick[draft.id];
    const chosen = (n) => range && n >= range.from && n <= range.to;
    const lines = el("ol", { class: "dt-lines pickable" }, draft.lines.map((l) => el("li", {},
      el("button", { type: "button", class: chosen(l.number) ? "line chosen" : "line", dataset: { line: l.number },
        "aria-pressed": chosen(l.number) ? "true" : "false", onclick: () => tap(draft, l.number) },
      el("span", { class: "dt-num" }, l.number), el("span", { class: "dt-text" }, l.text)))));
    const open = draft.outcome === "amending";
    let form = null;
    if (open && range) {
      const old = draft.lines.filter((l) => chosen(l.number)).map((l) => l.text).join("\n");
      form = el("form", { class: "amend-form", id: `amend-form-${draft.id}`,
        onsubmit: (e) => { e.preventDefault(); table(draft, e.currentTarget); } },
      el("p", {}, range.from === range.to ? t("amend_line", { n: range.from }) : t("amend_lines", { from: range.from, to: range.to })),
      el("label", { for: `new-text-${draft.id}` }, t("amend_new_text")),
      el("textarea", { id: `new-text-${draft.id}`, name: "new_text", rows: "4", maxlength: "20000" }, old),
      el("label", { for: `reasons-${draft.id}` }, t("amend_reasons")),
      el("textarea", { id: `reasons-${draft.id}`, name: "reasons", rows: "3", required: true, maxlength: "10000" }),
      el("button", { class: "big primary", type: "submit" }, t("amend_table")));
    }
    return el("section", { class: "card amend", dataset: { draftId: draft.id } },
      el("h2", {}, draft.title),
      open ? el("p", { class: "hint" }, t("amend_hint")) : el("p", { class: "hint" }, t("amend_closed")),
      lines, form,
      draft.amendments.length ? el("div", { class: "amendments" }, draft.amendments.map((a) => el("article", { class: `dt-amendment ${a.status}` },
        el("h3", {}, t("amend_number", { n: a.number }), " · ",
          a.line_from === a.line_to ? t("amend_line", { n: a.line_from }) : t("amend_lines", { from: a.line_from, to: a.line_to }),
          " · ", t(`amend_state_${a.outcome || a.status}`)),
        a.tabled_by ? el("p", { class: "hint" }, a.tabled_by) : null,
        diff(a.diff),
        a.decision_reason ? el("p", { class: "hint" }, a.decision_reason) : null))) : null);
  }

  function draw() {
    container.replaceChildren(el("div", { class: "amend-view" },
      el("h1", {}, t("amend_title")), status,
      drafts.length ? drafts.map(draftCard) : el("p", { class: "hint" }, t("amend_none"))));
  }

  draw();
  load();
  const stops = [app.live.on("draft_text.changed", () => load()), app.live.on("poll.published", () => load())];
  return () => stops.forEach((stop) => stop());
}
