// The control room's draft texts panel (docs/DRAFTS.md): enter a draft as text on the
// current item, see its numbered lines and amendments with their difference, admit or
// refuse them, order the queue, put the next amendment and then the whole to the vote.
// Every change comes back as draft_text.changed (and poll.published for outcomes).

import { act, api, el, replace, t } from "./common.js";
import { adoptedText, amendmentCard, numberedLines } from "./drafttext.js";

export function mountAmendments(ctx) {
  const { live, store, meetingId } = ctx;
  const list = document.getElementById("draft-list");
  const form = document.getElementById("draft-form");
  const drafts = new Map();

  async function load() {
    const found = await api("GET", `/api/v1/meetings/${meetingId}/draft-texts`).catch(() => null);
    if (!found) return;
    drafts.clear();
    for (const d of found) drafts.set(d.id, d);
    render();
  }

  function nextUp(draft) {
    const admitted = draft.amendments.filter((a) => a.status === "admitted");
    return admitted.find((a) => a.outcome === null) || null;
  }

  function queueButtons(draft, a) {
    const queue = draft.amendments.filter((x) => x.status === "admitted" && x.outcome === null).map((x) => x.id);
    const at = queue.indexOf(a.id);
    if (at < 0 || queue.length < 2) return [];
    const move = (by, button) => {
      const order = draft.amendments.filter((x) => x.status === "admitted").map((x) => x.id);
      const i = order.indexOf(a.id);
      const j = i + by;
      if (j < 0 || j >= order.length) return;
      [order[i], order[j]] = [order[j], order[i]];
      act(button, () => api("PUT", `/api/v1/draft-texts/${draft.id}/queue`, { amendments: order }));
    };
    return [
      at > 0 ? el("button", { class: "btn secondary small", type: "button", "aria-label": `${t("dt.up")} ${a.number}`,
        onclick: (e) => move(-1, e.currentTarget) }, "↑") : null,
      at < queue.length - 1 ? el("button", { class: "btn secondary small", type: "button", "aria-label": `${t("dt.down")} ${a.number}`,
        onclick: (e) => move(1, e.currentTarget) }, "↓") : null,
    ];
  }

  function actions(draft, a) {
    if (a.status === "tabled" && draft.outcome === "amending") {
      return el("div", { class: "row tight" },
        el("button", { class: "btn small", type: "button", "aria-label": `${t("dt.admit")} ${a.number}`,
          onclick: (e) => act(e.currentTarget, () => api("POST", `/api/v1/amendments/${a.id}/admission`, { admitted: true })) }, t("dt.admit")),
        el("button", { class: "btn secondary small", type: "button", "aria-label": `${t("dt.refuse")} ${a.number}`,
          onclick: (e) => {
            const reason = window.prompt(t("dt.refuse_reason"));
            if (reason && reason.trim()) {
              act(e.currentTarget, () => api("POST", `/api/v1/amendments/${a.id}/admission`, { admitted: false, reason: reason.trim() }));
            }
          } }, t("dt.refuse")));
    }
    return el("div", { class: "row tight" }, queueButtons(draft, a));
  }

  function voteButton(draft) {
    if (draft.under_vote_id || draft.final_poll_id) return null;
    const next = nextUp(draft);
    if (next) {
      return el("button", { class: "btn", type: "button", id: `dt-vote-${draft.id}`,
        onclick: (e) => act(e.currentTarget, () => api("POST", `/api/v1/amendments/${next.id}/vote`, {}), t("dt.vote_started")) },
      t("dt.vote_next", { n: next.number }));
    }
    if (draft.amendments.some((a) => a.status === "tabled" || a.outcome === "counted" || a.outcome === "voting")) return null;
    return el("button", { class: "btn", type: "button", id: `dt-vote-whole-${draft.id}`,
      onclick: (e) => act(e.currentTarget, () => api("POST", `/api/v1/draft-texts/${draft.id}/vote`, {}), t("dt.vote_started")) },
    t("dt.vote_whole"));
  }

  function draftView(draft) {
    const amended = (draft.adopted?.blocks || []).some((b) => b.kind === "amended");
    return el("details", { class: "draft-text", open: true, dataset: { draftId: draft.id } },
      el("summary", {}, draft.title, " · ", el("span", { class: "dt-state" }, t(`dt.whole.${draft.outcome}`))),
      numberedLines(draft.lines),
      draft.amendments.length
        ? draft.amendments.map((a) => amendmentCard(a, actions(draft, a)))
        : el("p", { class: "muted" }, t("dt.no_amendments")),
      amended ? [el("h4", {}, t("dt.adopted_text")), adoptedText(draft.adopted, true)] : null,
      voteButton(draft));
  }

  function render() {
    const itemId = store.state.currentItemId;
    const shown = [...drafts.values()].filter((d) => d.agenda_item_id === itemId);
    replace(list, shown.length ? shown.map(draftView) : el("p", { class: "muted" }, t("dt.none")));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    act(form.querySelector("button[type=submit]"), async () => {
      const draft = await api("POST", `/api/v1/meetings/${meetingId}/draft-texts`, {
        title: data.get("title").trim(), text: data.get("text"), agenda_item_id: store.state.currentItemId,
      });
      drafts.set(draft.id, draft);
      form.reset();
      render();
    }, t("dt.entered"));
  });

  live.on("draft_text.changed", (draft) => { drafts.set(draft.id, draft); render(); });
  live.on("poll.published", () => load());
  store.subscribe((what) => {
    if (what === "snapshot") load();
    else if (what === "item") render();
  });
}
