// The meeting's documents, with their offline state.
import { t } from "../i18n.js";
import { cachedPages } from "../pages.js";
import * as store from "../store.js";
import { el } from "../ui.js";

const progressById = new Map();

/** Background saving reports here; the list shows it when open. */
export function progress(docId, done, total) {
  progressById.set(docId, [done, total]);
  const line = document.querySelector(`[data-doc-id="${docId}"] .offline-state`);
  if (line) {
    line.textContent = done >= total ? t("saved_offline") : t("saving_offline", { done, total });
    line.classList.toggle("saved", done >= total);
  }
}

export function render(container, app) {
  function draw() {
    const docs = app.state.documents || [];
    container.replaceChildren(el("section", { class: "card" },
      el("h1", {}, t("documents")),
      docs.length ? el("ul", { class: "documents" }, docs.map((doc) => {
        const version = doc.current_version;
        const state = el("span", { class: "offline-state" });
        const known = progressById.get(doc.id);
        if (known) progress(doc.id, ...known);
        if (version) {
          cachedPages(app.state.pairing.meeting_id, doc, version).then((count) => {
            if (!progressById.has(doc.id) || count >= version.page_count) {
              state.textContent = count >= version.page_count ? t("saved_offline") : "";
              state.classList.toggle("saved", count >= version.page_count);
            }
          });
        }
        return el("li", { dataset: { docId: doc.id } },
          el("a", { class: "doc-link", href: `#doc/${doc.id}/1`, onclick: () => { app.follow = false; } },
            el("span", { class: "doc-title" }, doc.title),
            doc.confidential ? el("span", { class: "badge confidential" }, t("confidential")) : null,
            version ? el("span", { class: "pages" }, t("pages", { count: version.page_count })) : null),
          state);
      })) : el("p", { class: "hint" }, t("no_documents"))));
  }
  draw();
  return store.subscribe((what) => { if (what === "documents" || what === "snapshot" || what === "wiped") draw(); });
}
