// Drawing a draft text entered as text (docs/DRAFTS.md): its numbered lines, an
// amendment's word-by-word difference (del/ins), the adopted text. Shared by the
// control room and the projector; the data is the draft view of
// GET /api/v1/draft-texts/<id> and of the draft_text.changed event.

import { el, t } from "./common.js";

/** The numbered lines, from..to (all by default). */
export function numberedLines(lines, from = 1, to = Infinity, cls = "dt-lines") {
  return el("ol", { class: cls }, lines.filter((l) => l.number >= from && l.number <= to)
    .map((l) => el("li", { value: l.number, dataset: { line: l.number } },
      el("span", { class: "dt-num", "aria-hidden": "true" }, l.number), el("span", { class: "dt-text" }, l.text))));
}

/** [{op: equal/del/ins, text}] as text with <del> and <ins>. */
export function diffRuns(diff) {
  return el("div", { class: "dt-diff" }, (diff || []).map((run) => (run.op === "del"
    ? el("del", {}, run.text) : run.op === "ins" ? el("ins", {}, run.text) : run.text)));
}

/** "lines 3–5" or "line 3". */
export function lineRange(a) {
  return a.line_from === a.line_to ? t("dt.line", { n: a.line_from }) : t("dt.lines", { from: a.line_from, to: a.line_to });
}

/** One amendment: number, lines, movers, its difference, its reasons and where it stands. */
export function amendmentCard(a, extra = []) {
  const state = a.outcome ? t(`dt.outcome.${a.outcome}`) : t(`dt.status.${a.status}`);
  const movers = [a.tabled_by, ...(a.cosigner_names || [])].filter(Boolean).join(", ");
  return el("article", { class: `dt-amendment ${a.status} ${a.outcome || ""}`, dataset: { amendmentId: a.id } },
    el("h4", {}, t("dt.amendment", { n: a.number }), " · ", lineRange(a),
      el("span", { class: "dt-state" }, state)),
    movers ? el("p", { class: "muted" }, movers) : null,
    diffRuns(a.diff),
    a.reasons ? el("p", { class: "dt-reasons" }, el("strong", {}, t("dt.reasons")), " ", a.reasons) : null,
    a.decision_reason ? el("p", { class: "dt-reasons" }, el("strong", {}, t("dt.not_admitted_reason")), " ", a.decision_reason) : null,
    extra);
}

/** The adopted text: unchanged lines with their number, amended blocks with their difference. */
export function adoptedText(adopted, onlyAmended = false) {
  const blocks = (adopted?.blocks || []).filter((b) => !onlyAmended || b.kind === "amended");
  return el("div", { class: "dt-adopted" }, blocks.map((b) => (b.kind === "same"
    ? el("div", { class: "dt-line" }, el("span", { class: "dt-num" }, b.number), el("span", { class: "dt-text" }, b.text))
    : el("div", { class: "dt-line amended", dataset: { amendment: b.amendment } },
      el("span", { class: "dt-num" }, b.line_from === b.line_to ? b.line_from : `${b.line_from}–${b.line_to}`),
      diffRuns(b.diff)))));
}
