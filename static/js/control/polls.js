// Votes: open, close and publish polls; live progress (and, for named polls,
// who has not voted); the result as bars. Polls are managed over the REST API
// (/api/v1/polls/...); their changes come back as live events.

import { progressBar, outcomeLine, resultBars } from "./chart.js";
import { act, api, el, replace, t } from "./common.js";

const ORDER = { open: 0, closed: 1, draft: 2, published: 3, cancelled: 4 };

export function mountPolls(ctx, { big = false, create = true, itemOnly = false } = {}) {
  const { store, meetingId } = ctx;
  const list = document.getElementById("poll-list");
  const form = document.getElementById("poll-form");
  const fetching = new Set();

  async function load() {
    const polls = await api("GET", `/api/v1/meetings/${meetingId}/polls`);
    for (const poll of polls) store.setPoll(poll);
    for (const poll of polls) fetchDetails(poll);
    render();
  }

  async function fetchDetails(poll) {
    const key = `${poll.id}:${poll.status}`;
    if (fetching.has(key)) return;
    fetching.add(key);
    try {
      if (poll.status === "open") {
        store.state.progress.set(poll.id, await api("GET", `/api/v1/polls/${poll.id}/progress`));
      } else if ((poll.status === "closed" || poll.status === "published") && !store.state.results.has(poll.id)) {
        const { ballot_list: _ignored, ...summary } = await api("GET", `/api/v1/polls/${poll.id}/result`);
        store.state.results.set(poll.id, summary);
      }
      render();
    } catch (err) {
      fetching.delete(key);
      console.warn("poll details", poll.id, err.message);
    }
  }

  function transition(poll, name, button, body) {
    const confirmKey = { close: "confirm.close_poll", publish: "confirm.publish" }[name];
    if (confirmKey && !window.confirm(t(confirmKey))) return;
    act(button, () => api("POST", `/api/v1/polls/${poll.id}/${name}`, body), t("done"));
  }

  function actions(poll) {
    const size = big ? "btn" : "btn small";
    const make = (name, label, cls = "") => {
      const button = el("button", { type: "button", class: `${size} ${cls}`.trim(), dataset: { pollAction: name } }, label);
      button.addEventListener("click", () => transition(poll, name, button, name === "publish" ? {} : undefined));
      return button;
    };
    if (poll.status === "draft") return [make("open", t("open_poll"), "ok"), make("cancel", t("cancel_poll"), "ghost")];
    if (poll.status === "open") return [make("close", t("close_poll"), "danger")];
    if (poll.status === "closed") return [make("publish", t("publish_poll"))];
    return [];
  }

  function progressBlock(poll) {
    const progress = store.state.progress.get(poll.id);
    if (!progress) return null;
    const members = progress.members ?? 0;
    const line = members ? t("poll.voted", { cast: progress.cast, members }) : t("poll.voted_short", { cast: progress.cast });
    const missing = progress.not_voted?.length
      ? el("p", { class: "not-voted" }, el("strong", {}, `${t("poll.not_voted")} (${progress.not_voted.length}): `),
        progress.not_voted.map((p) => p.name).join(", "))
      : null;
    return [el("div", { class: "poll-progress", dataset: { cast: progress.cast } }, line),
      progressBar(progress.cast, members, line), missing];
  }

  function pollCard(poll) {
    const result = store.state.results.get(poll.id);
    return el("article", { class: `poll ${poll.status}`, dataset: { pollId: poll.id, status: poll.status } },
      el("div", { class: "motion" }, poll.motion),
      el("div", { class: "meta" }, `${t(`poll.${poll.status}`)} · ${t(`poll.${poll.kind}`)}`),
      poll.status === "open" ? progressBlock(poll) : null,
      result && poll.status !== "open" ? [outcomeLine(result), resultBars(result)] : null,
      el("div", { class: big ? "big-row" : "row tight" }, actions(poll)));
  }

  function render() {
    let polls = [...store.state.polls.values()].filter((p) => p.status !== "cancelled");
    if (itemOnly) {
      const item = store.state.currentItemId;
      polls = polls.filter((p) => p.status === "open" || p.status === "closed" || p.agenda_item_id === item);
    }
    polls.sort((a, b) => (ORDER[a.status] - ORDER[b.status]) || (b.id - a.id));
    if (!polls.length) { replace(list, el("p", { class: "muted" }, t(create ? "no_polls" : "no_polls_item"))); return; }
    replace(list, polls.map(pollCard));
  }

  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { motion: String(data.get("motion") || "").trim(), kind: data.get("kind") };
    if (data.get("for_item") && store.state.currentItemId) body.agenda_item_id = store.state.currentItemId;
    if (!body.motion) return;
    act(form.querySelector("button[type=submit]"), async () => {
      const poll = await api("POST", `/api/v1/meetings/${meetingId}/polls`, body);
      store.setPoll(poll);
      form.reset();
      form.closest("details")?.removeAttribute("open");
      render();
    }, t("done"));
  });
  if (!create && form) form.closest("details")?.remove();

  store.subscribe((what) => {
    if (what === "snapshot") { load().catch((err) => console.warn("polls", err.message)); return; }
    if (what === "polls") for (const poll of store.state.polls.values()) fetchDetails(poll);
    if (["polls", "progress", "item"].includes(what)) render();
  });
  return { reload: load };
}
