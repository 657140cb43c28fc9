// Find in the document: words typed with or without diacritics, matched by the server on
// every page's text (scanned pages by the text their OCR gave). Confidential documents have
// no find: their text never reaches a delegate's tablet.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { el, modal } from "../ui.js";

/** A toolbar button opening the find sheet; ``goTo(page)`` turns to a hit. Null when the
 * reader may not have the document's text. */
export function findButton(meetingId, doc, goTo) {
  if (!doc.can_download) return null;
  return el("button", { class: "tool find", onclick: () => openFind(meetingId, doc, goTo) }, t("find"));
}

function openFind(meetingId, doc, goTo) {
  const input = el("input", { type: "search", id: "find-words", maxlength: "200", "aria-label": t("find_prompt") });
  const results = el("ol", { class: "find-hits", id: "find-hits" });
  const status = el("p", { class: "hint", id: "find-status", role: "status" });
  async function run(event) {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    status.textContent = t("finding");
    results.replaceChildren();
    try {
      const found = await api(`/meetings/${meetingId}/documents/search?q=${encodeURIComponent(q)}&document_id=${doc.id}`);
      status.textContent = found.hits.length ? t("found", { count: found.hits.length }) : t("not_found");
      if (found.pages_pending_ocr) status.textContent += " " + t("ocr_pending", { count: found.pages_pending_ocr });
      for (const hit of found.hits) {
        results.append(el("li", {}, el("button", { class: "hit", dataset: { page: hit.page }, onclick: () => { layer.close(); goTo(hit.page); } },
          el("strong", {}, t("page_n", { page: hit.page })), " ", hit.snippet)));
      }
    } catch (err) {
      status.textContent = t("error", { message: err.message });
    }
  }
  const layer = modal("find-sheet", el("h2", {}, t("find")),
    el("form", { onsubmit: run }, input, el("button", { class: "primary", type: "submit" }, t("find"))),
    status, results,
    el("button", { class: "secondary big", onclick: () => layer.close() }, t("close")));
  input.focus();
}
