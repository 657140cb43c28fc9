// The projector: the room view on the big screen, readable from the back of the hall.
//
// It connects with its display token (a projector can only watch: the server
// gives it Permission.WATCH and nothing else), follows the meeting through
// live.js, which reconnects and catches up by itself after a network cut, and
// changes nothing. Page images come from the documents API with the token as
// a bearer credential; the server only lets a projector read the page being
// presented.

import { createLive } from "/static/js/lib/live.js";
import { outcomeLine, progressBar, resultBars } from "../control/chart.js";
import { clock, el, everySecond, replace, showConnection, speechElapsed, speechLeft, t } from "../control/common.js";
import { adoptedText, diffRuns, lineRange, numberedLines } from "../control/drafttext.js";
import { createStore } from "../control/store.js";

const root = document.getElementById("projector");
const meetingId = Number(root.dataset.meetingId);
const token = decodeURIComponent(window.location.pathname.split("/").filter(Boolean).pop());
const live = createLive({ auth: { token }, meetingId });
const store = createStore(live);
const { state } = store;

const stage = document.getElementById("p-stage");
const itemTitle = document.getElementById("p-item");
const speakerBox = document.getElementById("p-speaker");
const queueBox = document.getElementById("p-queue-box");
const queueList = document.getElementById("p-queue");
const quorumBox = document.getElementById("p-quorum");
const banner = document.getElementById("p-announcement");
const sessionLine = document.getElementById("p-session");
const clockNode = document.getElementById("p-clock");
document.getElementById("p-queue-heading").textContent = t("next_speakers");

let mode = "idle";          // what the stage shows: "page", "poll" or "idle"
let pageKey = null;         // the page image on screen (document/version/page)
let pageUrl = null;         // its blob: URL, revoked when replaced
let countdownNode = null;
let countTimer = null;

showConnection(live, document.getElementById("connection"));

// Draft texts (docs/DRAFTS.md): an amendment under vote is shown with its lines and its
// difference; once adopted, the text as amended. Live by draft_text.changed; outcomes
// follow a poll's published result, so poll.published makes it ask again.
const drafts = new Map();
async function loadDrafts() {
  try {
    const response = await fetch(`/api/v1/meetings/${meetingId}/draft-texts`,
      { headers: { Authorization: `Bearer ${token}`, Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    drafts.clear();
    for (const d of await response.json()) drafts.set(d.id, d);
    renderStage();
  } catch (err) { console.warn("draft texts", err.message); }
}
live.on("draft_text.changed", (draft) => { drafts.set(draft.id, draft); renderStage(); });
live.on("poll.published", () => loadDrafts());

/** What the poll decides on a draft text, drawn: the amendment, or the whole as amended. */
function draftPart(poll) {
  for (const draft of drafts.values()) {
    const amendment = draft.amendments.find((a) => a.poll_id === poll.id);
    if (amendment) {
      const adopted = amendment.outcome === "adopted";
      const block = (draft.adopted?.blocks || []).find((b) => b.kind === "amended" && b.amendment === amendment.id);
      return el("div", { class: "p-draft", id: "p-draft", dataset: { amendmentId: amendment.id, outcome: amendment.outcome || "" } },
        el("div", { class: "p-label" }, `${draft.title} · ${t("dt.amendment", { n: amendment.number })} · ${lineRange(amendment)}`),
        adopted && block
          ? [el("div", { class: "p-label" }, t("dt.adopted_text")), adoptedText({ blocks: [block] })]
          : [numberedLines(draft.lines, amendment.line_from, amendment.line_to, "dt-lines p-old"), diffRuns(amendment.diff)]);
    }
    if (draft.final_poll_id === poll.id) {
      return el("div", { class: "p-draft", id: "p-draft", dataset: { draftId: draft.id, outcome: draft.outcome } },
        el("div", { class: "p-label" }, `${draft.title} · ${t("dt.adopted_text")}`), adoptedText(draft.adopted, true));
    }
  }
  return null;
}

// Stage ----------------------------------------------------------------------------
async function showPage(presented) {
  const key = `${presented.document_id}/${presented.number}/${presented.page}`;
  if (key === pageKey && stage.querySelector("img")) return;
  pageKey = key;
  const caption = el("div", { class: "p-page-caption" },
    presented.title ? `${presented.title} · ` : "",
    presented.page_count ? t("page_of", { page: presented.page, count: presented.page_count }) : t("page_n", { page: presented.page }));
  try {
    const response = await fetch(
      `/api/v1/documents/${presented.document_id}/versions/${presented.number}/pages/${presented.page}.png?size=large`,
      { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const blob = await response.blob();
    if (pageKey !== key) return;  // turned again meanwhile
    if (pageUrl) URL.revokeObjectURL(pageUrl);
    pageUrl = URL.createObjectURL(blob);
    replace(stage, el("img", { class: "p-page", id: "p-page", src: pageUrl, alt: caption.textContent,
      dataset: { page: presented.page, document: presented.document_id } }), caption);
  } catch (err) {
    if (pageKey !== key) return;
    pageKey = null;  // try again at the next change (after a reconnect, say)
    console.warn("page image", err.message);
    replace(stage, el("div", { class: "p-idle" }, el("p", {}, t("page_unavailable"))), caption);
  }
}

function showPoll(poll) {
  const result = state.results.get(poll.id);
  const parts = [el("div", { class: "p-label" }, `${t(`poll.${poll.status}`)} · ${t(`poll.${poll.kind}`)}`),
    el("h2", { class: "p-motion" }, poll.motion)];
  if (poll.status === "open") {
    const cast = state.progress.get(poll.id)?.cast ?? 0;
    const members = state.quorum?.members ?? 0;
    const line = t("poll.voted", { cast, members });
    parts.push(el("div", { class: "p-vote-count", id: "p-vote-count", dataset: { cast } }, line),
      progressBar(cast, members, line));
  } else if (result) {
    parts.push(outcomeLine(result), resultBars(result));
  } else {
    parts.push(el("p", { class: "p-note" }, t("vote_closed")));
  }
  parts.push(draftPart(poll));
  replace(stage, el("div", { class: "p-poll", id: "p-poll", dataset: { pollId: poll.id, status: poll.status } }, parts));
}

function showIdle() {
  pageKey = null;
  const item = store.currentItem();
  const top = item ? item.number.split(".")[0] : null;  // 2.1 lights up 2
  const upcoming = state.agenda.filter((i) => i.depth === 0).slice(0, 8);
  replace(stage, el("div", { class: "p-idle" },
    el("ol", { class: "p-agenda" }, upcoming.map((i) => el("li", { class: i.number === top ? "current" : null },
      el("span", { class: "num" }, i.number), i.title)))));
}

function renderStage() {
  const poll = state.featuredPollId ? state.polls.get(state.featuredPollId) : null;
  stage.dataset.mode = mode;
  if (mode === "poll" && poll) { pageKey = null; showPoll(poll); return; }
  if (state.presented?.number) { stage.dataset.mode = "page"; showPage(state.presented); return; }
  stage.dataset.mode = "idle";
  showIdle();
}

// The vote count for everyone. Progress events are for staff: the projector sees
// them as bare revision ticks. While a vote is open, a tick (or, failing that, every
// few seconds) makes it ask for the meeting's state, whose open poll has the count;
// at most one question a second.
let countAsked = 0;
let countLater = null;

async function refreshCount() {
  countLater = null;
  countAsked = Date.now();
  try {
    const ack = await live.command("sync", {});
    const current = ack.snapshot?.poll;
    if (!current) return;
    state.progress.set(current.poll_id, { poll_id: current.poll_id, cast: current.voted });
    if (ack.snapshot.quorum) state.quorum = ack.snapshot.quorum;
    if (mode === "poll") renderStage();
  } catch { /* offline: live.js reconnects; the next tick asks again */ }
}

function askCount() {
  if (!featuredOpen() || countLater) return;
  countLater = setTimeout(refreshCount, Math.max(0, 1000 - (Date.now() - countAsked)));
}

live.onMessage("revision", askCount);

function watchCount() {
  if (featuredOpen() && !countTimer) countTimer = setInterval(askCount, 5000);
  else if (!featuredOpen() && countTimer) { clearInterval(countTimer); countTimer = null; }
}

// Sidebar --------------------------------------------------------------------------
function renderHeader() {
  const item = store.currentItem();
  itemTitle.textContent = item ? `${item.number}. ${item.title}` : (state.meeting?.title || "");
  if (state.meeting?.title) document.getElementById("p-meeting-title").textContent = state.meeting.title;
  sessionLine.textContent = t(`session.${state.session?.state || "not_started"}`);
  banner.hidden = !state.announcement;
  banner.textContent = state.announcement?.text || "";
}

function renderFloor() {
  const { speaking, queue } = state.floor;
  if (speaking) {
    countdownNode = el("div", { class: "p-countdown", id: "p-countdown", role: "timer" });
    replace(speakerBox, el("div", { class: "p-label" }, t("speaking")),
      el("div", { class: "p-speaker-name", id: "p-speaker-name" }, speaking.name), countdownNode);
  } else {
    countdownNode = null;
    replace(speakerBox, el("div", { class: "p-label", id: "p-speaker-name" }, t("nobody_speaking")));
  }
  queueBox.hidden = queue.length === 0;
  replace(queueList, queue.slice(0, 4).map((r) => el("li", {}, r.name)));
  tick();
}

function renderQuorum() {
  const q = state.quorum;
  if (!q) { replace(quorumBox); return; }
  quorumBox.className = `p-quorum ${q.reached ? "reached" : "missing"}`;
  replace(quorumBox, el("div", { class: "p-label" }, t("quorum")),
    el("div", { class: "p-quorum-figure", id: "p-quorum-figure" }, `${q.present} / ${q.members}`),
    el("div", {}, t(q.reached ? "quorum.reached" : "quorum.missing")));
}

function tick() {
  const now = new Date();
  clockNode.textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const speaking = state.floor.speaking;
  if (!countdownNode || !speaking) return;
  const left = speechLeft(speaking, state.skewMs);
  countdownNode.textContent = left === null ? clock(speechElapsed(speaking, state.skewMs)) : clock(left);
  countdownNode.classList.toggle("over", left !== null && left < 0);
  countdownNode.classList.toggle("ending", left !== null && left >= 0 && left <= 30);
}

function featuredOpen() {
  return state.polls.get(state.featuredPollId)?.status === "open";
}

store.subscribe((what) => {
  // An open vote keeps the stage; a result stays until a page is shown or the item changes.
  if (what === "snapshot") { mode = featuredOpen() ? "poll" : "page"; loadDrafts(); }
  else if (what === "polls") mode = state.featuredPollId && state.polls.has(state.featuredPollId) ? "poll" : "page";
  else if ((what === "presented" || what === "item") && !featuredOpen()) mode = "page";
  if (["snapshot", "item", "session", "meeting", "announcement"].includes(what)) renderHeader();
  if (["snapshot", "floor"].includes(what)) renderFloor();
  if (["snapshot", "attendance"].includes(what)) renderQuorum();
  if (["snapshot", "polls", "presented", "item"].includes(what)) renderStage();
  if (["snapshot", "polls"].includes(what)) watchCount();
});
everySecond(tick);
