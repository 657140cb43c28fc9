// Written consultations (xin ý kiến): the list of those I am asked (open ones first, with the
// deadline), and one of them: its text and question, yes / no / abstain with a comment,
// "Send my answer" (or "Change my answer" while allowed), where my answer stands (queued on
// this tablet, stored by the server, or refused and why), and after closing the result.
import { serverNow } from "../api.js";
import * as consultations from "../consultations.js";
import { t } from "../i18n.js";
import { el } from "../ui.js";

const CHOICES = ["yes", "no", "abstain"];
const CHOICE_LABEL = { yes: () => t("consult_yes"), no: () => t("consult_no"), abstain: () => t("consult_abstain") };
const form = {}; // id -> {choice, comment, editing}: what the member is writing survives a redraw

function answerLine(answer) {
  if (!answer) return el("p", { class: "consult-answer none" }, t("consult_not_answered"));
  const state = { queued: t("consult_queued"), stored: t("consult_stored"), refused: t("consult_refused") }[answer.state];
  return el("p", { class: `consult-answer ${answer.state}`, dataset: { state: answer.state }, role: "status" },
    t("consult_your_answer", { choice: CHOICE_LABEL[answer.choice]?.() || answer.choice }),
    answer.comment ? ` — ${answer.comment}` : "",
    " ", el("span", { class: `badge answer-state ${answer.state}` }, state));
}

function statusBadge(c) {
  if (consultations.isOpen(c)) return el("span", { class: "badge open" }, t("consult_open"));
  if (consultations.notYet(c)) return el("span", { class: "badge not-yet" }, t("consult_not_yet"));
  if (c.result) {
    return el("span", { class: `badge closed ${c.result.passed ? "carried" : "not-carried"}` },
      t("consult_closed"), " · ", t(c.result.passed ? "consult_carried" : "consult_not_carried"));
  }
  return el("span", { class: "badge closed" }, t("consult_closed"));
}

function resultSection(c) {
  const r = c.result;
  if (!r) return el("p", { class: "hint", id: "consult-result-pending" }, t("consult_counting"));
  return el("section", { class: "consult-result", id: "consult-result" },
    el("h2", {}, t("result")),
    el("p", { class: `outcome ${r.passed ? "outcome-adopted" : "outcome-rejected"}`, id: "consult-passed" },
      t(r.passed ? "consult_carried" : "consult_not_carried")),
    el("ul", { class: "totals" }, CHOICES.map((k) => el("li", { dataset: { choice: k } },
      el("span", {}, CHOICE_LABEL[k]()), el("span", { class: "count" }, r.totals?.[k]?.count ?? 0))),
    el("li", { dataset: { choice: "none" } }, el("span", {}, t("consult_no_answer")),
      el("span", { class: "count" }, (r.not_answered || []).length))));
}

function answerForm(c, answer, redraw) {
  const draft = form[c.id] || (form[c.id] = { choice: answer?.choice || null, comment: answer?.comment || "" });
  const comment = el("textarea", { id: "consult-comment", rows: "3", maxlength: "4000", "aria-label": t("consult_comment") });
  comment.value = draft.comment;
  comment.addEventListener("input", () => { draft.comment = comment.value; });
  return el("form", { class: "consult-form", id: "consult-form", onsubmit: async (event) => {
    event.preventDefault();
    if (!draft.choice) return;
    delete form[c.id];
    await consultations.submit(c, draft.choice, comment.value);
  } },
  el("fieldset", {}, el("legend", {}, c.question),
    el("div", { class: "options" }, CHOICES.map((k) => el("button", {
      type: "button", class: `option big option-${k} ${draft.choice === k ? "selected" : ""}`,
      dataset: { choice: k }, "aria-pressed": draft.choice === k ? "true" : "false",
      onclick: () => { draft.choice = k; redraw(); },
    }, CHOICE_LABEL[k]())))),
  el("label", { for: "consult-comment" }, t("consult_comment")), comment,
  el("button", { type: "submit", class: "primary big", id: "consult-send", disabled: !draft.choice },
    answer && answer.state !== "refused" ? t("consult_change") : t("consult_send")));
}

function detail(c, redraw) {
  const open = consultations.isOpen(c);
  const answer = consultations.answerOf(c);
  const refused = answer?.state === "refused";
  // After a refusal the server's own record of my answer, if it has one, still stands.
  const kept = refused && c.my_answer ? { ...c.my_answer, state: "stored" } : null;
  const mayAnswer = open && (!answer || c.allow_change || (refused && !kept));
  return el("article", { class: "card consult-detail", dataset: { id: c.id } },
    el("p", { class: "crumbs" }, el("a", { href: "#consult" }, t("consult_title"))),
    el("h1", {}, c.title, statusBadge(c)),
    c.body ? el("p", { class: "consult-body" }, c.body) : null,
    el("p", { class: "consult-question" }, el("strong", {}, c.question)),
    el("p", { class: "consult-deadline" }, t("consult_deadline", { deadline: consultations.when(c.closes_at) })),
    open && consultations.wasReminded(c.id) && !answer
      ? el("p", { class: "consult-reminded", role: "alert" }, t("consult_reminded")) : null,
    answerLine(answer),
    refused ? el("p", { class: "error", role: "alert", id: "consult-refusal" },
      consultations.reason(answer.code),
      " ", el("button", { class: "secondary", onclick: () => consultations.dismiss(c.id) }, t("close"))) : null,
    kept ? answerLine(kept) : null,
    answer?.state === "queued" ? el("p", { class: "hint" }, t("consult_queued_hint")) : null,
    mayAnswer ? answerForm(c, answer, redraw)
      : open ? el("p", { class: "hint" }, t("consult_final"))
        : consultations.notYet(c) ? el("p", { class: "hint" }, t("consult_opens", { opens: consultations.when(c.opens_at) }))
          : el("p", { class: "hint" }, t("consult_no_more")),
    open || consultations.notYet(c) ? null : resultSection(c));
}

function listCard(c) {
  const answer = consultations.answerOf(c);
  return el("li", { class: "consult-item", dataset: { id: c.id, open: consultations.isOpen(c) ? "true" : "false" } },
    el("a", { href: `#consult/${c.id}`, class: "consult-link" }, c.title),
    statusBadge(c),
    el("p", { class: "hint" }, t("consult_deadline", { deadline: consultations.when(c.closes_at) })),
    consultations.isOpen(c) && consultations.wasReminded(c.id) && !answer
      ? el("p", { class: "consult-reminded" }, t("consult_reminded")) : null,
    answerLine(answer));
}

export function render(container, app, args) {
  const id = Number(args[0]) || null;
  let deadlineTimer = null;

  function draw() {
    clearTimeout(deadlineTimer);
    const c = id ? consultations.byId(id) : null;
    if (c && (consultations.isOpen(c) || consultations.notYet(c))) {
      // The opening or the deadline passes on screen: the form comes or goes (and after the
      // deadline the server is asked for the result).
      const left = Date.parse(consultations.notYet(c) ? c.opens_at : c.closes_at) - serverNow();
      if (left < 2 ** 31) deadlineTimer = setTimeout(() => { draw(); consultations.load(); }, Math.max(0, left) + 1000);
    }
    if (id && !c) {
      container.replaceChildren(el("section", { class: "card" }, el("p", { class: "hint" }, t("consult_unknown")),
        el("a", { href: "#consult" }, t("consult_title"))));
      return;
    }
    if (c) { container.replaceChildren(el("div", { class: "consult-view" }, detail(c, draw))); return; }
    const list = consultations.all();
    container.replaceChildren(el("section", { class: "card consult-view" },
      el("h1", {}, t("consult_title")),
      list.length ? el("ul", { class: "consult-list" }, list.map(listCard))
        : el("p", { class: "hint", id: "consult-none" }, t("consult_none"))));
  }

  draw();
  if (app.connection === "online") consultations.load();
  const stop = consultations.subscribe(draw);
  return () => { stop(); clearTimeout(deadlineTimer); };
}
