// Drafts open for comment: which versions I may comment on, the comment form, and sending
// comments through the same outbox as annotations (kept offline, replayed in order; the
// server is idempotent by the comment's UUID).
import { ApiError, api, uuid4 } from "./api.js";
import * as annotations from "./annotations.js";
import { kvGet, kvSet } from "./db.js";
import { t } from "./i18n.js";
import { el, modal } from "./ui.js";

let commentPeriods = [];
const KINDS = ["substantive", "editorial", "agree", "disagree"];

/** The meeting's drafts I may see, from the server when reachable, else as last known. */
export async function load(meetingId) {
  try {
    commentPeriods = await api(`/meetings/${meetingId}/comment-periods`);
    kvSet("commentPeriods", commentPeriods).catch(() => {});
  } catch (err) {
    if (!(err instanceof ApiError && err.offline)) console.warn("commentPeriods", err);
    commentPeriods = (await kvGet("commentPeriods").catch(() => null)) || commentPeriods;
  }
  return commentPeriods;
}

/** The open comment period on this version that I may comment on, or null. */
export function openFor(versionId) {
  const now = Date.now();
  return commentPeriods.find((c) => c.version_id === versionId && c.can_comment
    && Date.parse(c.deadline) > now) || null;
}

/** Ask for the comment's kind and text; ``onSave({kind, text})``. */
export function askComment(quoteHint, onSave) {
  const kind = el("select", { id: "comment-kind", "aria-label": t("comment_kind") },
    KINDS.map((k) => el("option", { value: k }, t(`comment_${k}`))));
  const text = el("textarea", { id: "comment-text", rows: "5", maxlength: "4000", "aria-label": t("comment_prompt") });
  const problem = el("p", { class: "hint", hidden: true }, t("comment_needs_text"));
  const layer = modal("comment-editor", el("h2", {}, t("comment_prompt")),
    el("p", { class: "hint" }, quoteHint), kind, text, problem,
    el("div", { class: "actions" },
      el("button", { class: "primary big", id: "send-comment", onclick: () => {
        const value = text.value.trim();
        if (!value && (kind.value === "substantive" || kind.value === "editorial")) { problem.hidden = false; return; }
        layer.close();
        onSave({ kind: kind.value, text: value });
      } }, t("comment_send")),
      el("button", { class: "secondary big", onclick: () => layer.close() }, t("cancel"))));
  text.focus();
}

/** Queue a comment for the server (sent now when online, at the next connection otherwise). */
export async function submit(commentPeriod, page, region, { kind, text }) {
  const id = uuid4();
  const body = { comment_period_id: commentPeriod.id, page_number: page, region, kind, text };
  await annotations.queue({ op: "comment", id, body });
  return id;
}

/** My comments on the draft and those the office published, in a sheet (needs the network). */
export async function showComments(commentPeriod) {
  let found;
  try {
    found = await api(`/comment-periods/${commentPeriod.id}/comments`);
  } catch (err) {
    found = null;
    if (!(err instanceof ApiError && err.offline)) console.warn("comments", err);
  }
  const items = (found || []).map((c) => el("li", { class: "comment-item", dataset: { id: c.id } },
    el("p", { class: "hint" }, t("page_of", { page: c.page_number, count: commentPeriod.page_count }),
      " · ", t(`comment_${c.kind}`), c.published && c.author ? ` · ${c.author}` : ""),
    c.quote ? el("blockquote", { class: "quote" }, c.quote) : null,
    c.text ? el("p", { class: "comment-text" }, c.text) : null,
    c.response ? el("p", { class: "response" }, t(`response_${c.response}`), c.response_text ? `: ${c.response_text}` : "") : null));
  const body = found === null ? el("p", { class: "hint" }, t("offline_action"))
    : items.length ? el("ul", { class: "comment-list" }, items) : el("p", { class: "hint" }, t("no_comments"));
  const layer = modal("comment-list-sheet", el("h2", {}, t("comments_title")), body,
    el("button", { class: "secondary big", onclick: () => layer.close() }, t("close")));
}

/** Comments made on earlier versions that stay on this version's unchanged pages, each on
 * its page here and saying where it was made (needs the network). */
export async function showCarried(documentId, version) {
  let found;
  try {
    found = await api(`/documents/${documentId}/versions/${version.number}/carried-comments`);
  } catch (err) {
    found = null;
    if (!(err instanceof ApiError && err.offline)) console.warn("carried comments", err);
  }
  const items = (found || []).map((c) => el("li", { class: "comment-item carried", dataset: { id: c.id, page: String(c.page_number) } },
    el("p", { class: "hint" }, t("page_of", { page: c.page_number, count: version.page_count }),
      " · ", t("carried_from", { version: c.carried_from.version, page: c.carried_from.page_number }),
      " · ", t(`comment_${c.kind}`), c.published && c.author ? ` · ${c.author}` : ""),
    c.quote ? el("blockquote", { class: "quote" }, c.quote) : null,
    c.text ? el("p", { class: "comment-text" }, c.text) : null,
    c.response ? el("p", { class: "response" }, t(`response_${c.response}`), c.response_text ? `: ${c.response_text}` : "") : null));
  const body = found === null ? el("p", { class: "hint" }, t("offline_action"))
    : items.length ? el("ul", { class: "comment-list" }, items) : el("p", { class: "hint" }, t("no_carried"));
  const layer = modal("carried-sheet", el("h2", {}, t("carried_title")), body,
    el("button", { class: "secondary big", onclick: () => layer.close() }, t("close")));
}
