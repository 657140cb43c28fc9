// Voting: the ballot opens by itself when a poll opens; the delegate chooses, confirms, and
// sees "recorded" only once the server has acknowledged the ballot (with the receipt for a
// secret poll). A retry resends the same ballot id, so it can never count twice.
// A receipt is kept in memory only, never written to the tablet's storage: the delegate keeps
// it by choice (downloads it, or writes it down from the screen). forgetBallots() erases what
// is left (the wipe, the revocation and the sealing call it).
import { ApiError, api, uuid4 } from "../api.js";
import { t } from "../i18n.js";
import * as store from "../store.js";
import { closeModal, el, modal, toast } from "../ui.js";

let ballot = null; // {poll, entry, choices, ballotId, step, receipt, error}
let status = null; // the server's /polls/<id>/me answer for the open poll
const receipts = new Map(); // "<poll>.<represented>" -> receipt, for this page's life only
const STORED_PREFIXES = ["hemicycle.ballot.", "hemicycle.receipt."];

/** Forget every ballot on its way and every receipt (in memory and in older clients' storage). */
export function forgetBallots() {
  receipts.clear();
  if (ballot) closeModal("ballot");
  ballot = null;
  status = null;
  for (const name of Object.keys(localStorage)) {
    if (STORED_PREFIXES.some((prefix) => name.startsWith(prefix))) localStorage.removeItem(name);
  }
}

function downloadReceipt(poll, receipt) {
  const text = `${t("receipt_file", { motion: poll.motion, receipt })}\n`;
  const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/plain" })),
                         download: `hemicycle-receipt-${poll.id}.txt` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function key(pollId, representedId) { return `hemicycle.ballot.${pollId}.${representedId}`; }

function optionLabel(poll, keyName) {
  return poll.options.find((o) => o.key === keyName)?.label || keyName;
}

async function loadStatus(poll) {
  status = await api(`/polls/${poll.id}/me`);
  return status;
}

/** Open the ballot for the open poll, if I still have a ballot to cast. */
export async function showBallot(app) {
  const poll = app.state.poll;
  if (!poll || poll.status !== "open") return;
  try {
    // The snapshot's poll is a summary: fetch the whole poll (choice limits) once.
    if (poll.max_choices === undefined) Object.assign(poll, await api(`/polls/${poll.id}`));
    await loadStatus(poll);
  } catch (err) {
    if (!(err instanceof ApiError && err.offline)) console.warn("poll status", err);
    return;
  }
  const entry = status.ballots.find((b) => b.allowed && !b.voted);
  if (!status.can_vote || !entry) { store.changed("poll"); return; }
  const saved = JSON.parse(localStorage.getItem(key(poll.id, entry.represented_id)) || "null");
  ballot = { poll, entry, choices: saved?.choices || [], ballotId: saved?.ballot_id || null,
             step: saved ? "confirm" : "choose", receipt: null, error: null };
  draw(app);
}

async function send(app) {
  const { poll, entry } = ballot;
  if (!ballot.ballotId) {
    ballot.ballotId = uuid4();
    localStorage.setItem(key(poll.id, entry.represented_id),
                         JSON.stringify({ ballot_id: ballot.ballotId, choices: ballot.choices }));
  }
  ballot.step = "sending";
  draw(app);
  const body = { ballot_id: ballot.ballotId, choices: ballot.choices };
  if (entry.represented_id !== app.state.pairing.participant_id) body.on_behalf_of = entry.represented_id;
  try {
    const answer = await api(`/polls/${poll.id}/ballots`, { method: "POST", body });
    ballot.receipt = answer.receipt;
    ballot.step = "recorded";
    localStorage.removeItem(key(poll.id, entry.represented_id));
    if (answer.receipt) receipts.set(`${poll.id}.${entry.represented_id}`, answer.receipt);
  } catch (err) {
    if (err.code === "already_voted") {
      ballot.step = "recorded";
      localStorage.removeItem(key(poll.id, entry.represented_id));
    } else {
      ballot.step = "error";
      ballot.error = err instanceof ApiError && err.offline ? t("offline_action") : err.message;
    }
  }
  draw(app);
}

function choose(app, option) {
  const poll = ballot.poll;
  const max = poll.max_choices || 1;
  if (max <= 1) {
    ballot.choices = [option];
    ballot.step = "confirm";
  } else if (ballot.choices.includes(option)) {
    ballot.choices = ballot.choices.filter((c) => c !== option);
  } else if (ballot.choices.length < max) {
    ballot.choices = [...ballot.choices, option];
  }
  draw(app);
}

function ballotContent(app) {
  const { poll, entry, step } = ballot;
  const header = [
    el("p", { class: "poll-kind" }, t(poll.kind === "secret" ? "secret_poll" : "named_poll")),
    el("h2", { class: "motion" }, poll.motion),
    entry.represented_id !== app.state.pairing.participant_id
      ? el("p", { class: "proxy" }, t("for_someone", { name: entry.name })) : null,
  ];
  const chosen = ballot.choices.map((c) => optionLabel(poll, c)).join(", ");
  if (step === "choose") {
    const multi = (poll.max_choices || 1) > 1;
    return [...header,
      el("p", { class: "hint" }, multi ? t("choose_up_to", { count: poll.max_choices }) : t("choose")),
      el("div", { class: "options" }, poll.options.map((o) => el("button", {
        class: `option big option-${o.key} ${ballot.choices.includes(o.key) ? "selected" : ""}`,
        dataset: { key: o.key }, "aria-pressed": ballot.choices.includes(o.key) ? "true" : "false",
        onclick: () => choose(app, o.key),
      }, o.label))),
      multi ? el("button", {
        class: "primary big", disabled: ballot.choices.length < (poll.min_choices || 0),
        onclick: () => { ballot.step = "confirm"; draw(app); },
      }, t("confirm_vote")) : null];
  }
  if (step === "confirm") {
    return [...header, el("h3", {}, t("confirm_vote")),
      el("p", { class: "choice" }, t("your_choice", { choice: chosen || "—" })),
      el("div", { class: "actions" },
        el("button", { class: "primary big", id: "confirm-vote", onclick: () => send(app) }, t("confirm")),
        el("button", { class: "secondary big", onclick: () => { ballot.step = "choose"; ballot.ballotId = null; draw(app); } }, t("change")))];
  }
  if (step === "sending") return [...header, el("p", { class: "sending", role: "status" }, t("sending_vote"))];
  if (step === "error") {
    return [...header, el("p", { class: "error", role: "alert" }, t("vote_failed", { message: ballot.error })),
      el("button", { class: "primary big", onclick: () => send(app) }, t("vote_retry"))];
  }
  return [...header,
    el("p", { class: "recorded", role: "status" }, t("vote_recorded")),
    el("p", { class: "choice" }, t("your_choice", { choice: chosen })),
    ballot.receipt ? el("p", { class: "receipt" }, t("receipt", { receipt: ballot.receipt })) : null,
    ballot.receipt ? el("p", { class: "hint" }, t("receipt_hint")) : null,
    ballot.receipt ? el("button", { class: "secondary big", id: "download-receipt",
                                    onclick: () => downloadReceipt(ballot.poll, ballot.receipt) },
                        t("receipt_download")) : null,
    el("button", { class: "secondary big", onclick: () => { ballot = null; closeModal("ballot"); showBallot(app); } }, t("close"))];
}

function draw(app) {
  if (!ballot) return;
  modal("ballot", ...ballotContent(app));
}

function resultCard(poll) {
  const result = poll.result || {};
  const totals = result.totals || {};
  const outcome = result.outcome;
  return el("section", { class: "card result" },
    el("h2", {}, t("result")),
    el("p", { class: "motion" }, poll.motion),
    outcome ? el("p", { class: `outcome outcome-${outcome}` }, t(`outcome_${outcome}`)) : null,
    el("ul", { class: "totals" }, poll.options.map((o) => el("li", {},
      el("span", { class: "label" }, o.label),
      el("span", { class: "count" }, t("votes", { count: totals[o.key]?.count ?? 0 }))))),
    result.elected?.length ? el("p", { class: "elected" },
      `${t("outcome_elected")}: ${result.elected.map((k) => optionLabel(poll, k)).join(", ")}`) : null,
    poll.decision ? el("p", { class: "decision" }, poll.decision) : null,
    poll.kind === "secret" ? receiptCheck(poll) : null);
}

// Any voter checks a receipt (the one on screen, or one written down) against the published
// ballot list, whose digest the minutes and the audit chain hold.
function receiptCheck(poll) {
  const mine = [...receipts].find(([name]) => name.startsWith(`${poll.id}.`))?.[1] || "";
  const input = el("input", { name: "receipt", value: mine, maxlength: "10", autocomplete: "off",
                              autocapitalize: "characters", spellcheck: "false" });
  const answer = el("p", { class: "receipt-answer", role: "status" });
  const form = el("form", { class: "receipt-check" },
    el("label", {}, t("receipt_check"), input),
    el("button", { type: "submit", class: "secondary" }, t("receipt_check_button")), answer);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = input.value.trim().toUpperCase();
    try {
      const result = await api(`/polls/${poll.id}/result`);
      const found = (result.ballot_list || []).find((b) => b.receipt === code);
      answer.textContent = found
        ? t("receipt_found", { choice: found.choices.map((k) => optionLabel(poll, k)).join(", ") || "—" })
        : t("receipt_not_found");
    } catch (err) {
      answer.textContent = err instanceof ApiError && err.offline ? t("offline_action") : err.message;
    }
  });
  const digest = poll.result?.ballot_digest;
  return el("div", { class: "receipts" }, form,
    digest ? el("p", { class: "hint digest" }, t("ballot_digest", { digest })) : null);
}

export function render(container, app) {
  function drawView() {
    const poll = app.state.poll;
    const parts = [el("h1", {}, t("vote_title"))];
    if (!poll || poll.status === "cancelled") {
      parts.push(el("p", { class: "hint" }, poll ? t("poll_cancelled") : t("no_poll")));
    } else if (poll.status === "published") {
      parts.push(resultCard(poll));
    } else {
      parts.push(el("p", { class: "poll-kind" }, t(poll.kind === "secret" ? "secret_poll" : "named_poll")),
        el("h2", { class: "motion" }, poll.motion));
      if (poll.status === "open" && status && status.poll_id === poll.id) {
        const left = status.ballots.some((b) => b.allowed && !b.voted);
        const present = status.ballots.some((b) => b.allowed);
        parts.push(el("p", { class: "hint" }, !status.can_vote ? t("cannot_vote")
          : left ? "" : present ? t("already_voted") : t("must_be_present")));
        if (left) parts.push(el("button", { class: "primary big", onclick: () => showBallot(app) }, t("vote_title")));
      }
      const receipt = poll.id && receipts.get(`${poll.id}.${app.state.pairing.participant_id}`);
      if (receipt) parts.push(el("p", { class: "receipt" }, t("receipt", { receipt })));
    }
    container.replaceChildren(el("section", { class: "card vote" }, ...parts));
  }
  drawView();
  if (app.state.poll?.status === "open" && app.connection === "online") {
    loadStatus(app.state.poll).then(drawView).catch(() => {});
  }
  return store.subscribe((what) => { if (what === "poll" || what === "snapshot") drawView(); });
}

// A poll that ends while its ballot is on screen takes the ballot away.
store.subscribe((what) => {
  const poll = store.state.poll;
  if (what !== "poll" || !ballot || !poll) return;
  if (poll.id === ballot.poll.id && poll.status !== "open" && ballot.step !== "recorded") {
    ballot = null;
    closeModal("ballot");
    if (poll.status === "cancelled") toast(t("poll_cancelled"));
  }
  if (poll.status === "published") {
    ballot = null;
    modal("result-modal", resultCard(poll),
      el("button", { class: "secondary big", onclick: () => closeModal("result-modal") }, t("close")));
  }
});
