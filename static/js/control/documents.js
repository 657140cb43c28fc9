// Documents: push one to the tablets, project a page and turn pages
// (POST /api/v1/meetings/<id>/push and /present, the documents API).

import { act, api, el, replace, t } from "./common.js";

export function pageImageUrl(presented, size = "large") {
  return `/api/v1/documents/${presented.document_id}/versions/${presented.number}/pages/${presented.page}.png?size=${size}`;
}

export function mountDocuments(ctx) {
  const { store, meetingId } = ctx;
  const list = document.getElementById("document-list");
  const box = document.getElementById("presented");
  let documents = [];

  async function load() {
    documents = await api("GET", `/api/v1/meetings/${meetingId}/documents`);
    render();
  }

  function versionOf(versionId) {
    for (const doc of documents) {
      const version = doc.versions.find((v) => v.id === versionId);
      if (version) return { doc, version };
    }
    return null;
  }

  function present(version, page, button) {
    return act(button, () => api("POST", `/api/v1/meetings/${meetingId}/present`, { version_id: version.id, page }));
  }

  function turn(step) {
    const presented = store.state.presented;
    if (!presented) return;
    const found = versionOf(presented.version_id);
    const count = presented.page_count || found?.version.page_count || 1;
    const page = presented.page + step;
    if (page < 1 || page > count) return;
    present({ id: presented.version_id }, page, null);
  }

  function renderPresented() {
    const presented = store.state.presented;
    box.hidden = !presented;
    if (!presented) { replace(box); return; }
    const found = versionOf(presented.version_id);
    const count = presented.page_count || found?.version.page_count || "?";
    const title = presented.title || found?.doc.title || "";
    const prev = el("button", { type: "button", class: "btn small secondary", id: "page-previous",
      "aria-keyshortcuts": "ArrowLeft", "aria-label": t("previous_page"), disabled: presented.page <= 1 }, el("kbd", {}, "←"));
    const next = el("button", { type: "button", class: "btn small", id: "page-next",
      "aria-keyshortcuts": "ArrowRight", "aria-label": t("next_page"), disabled: count !== "?" && presented.page >= count }, el("kbd", {}, "→"));
    prev.addEventListener("click", () => turn(-1));
    next.addEventListener("click", () => turn(1));
    const number = presented.number ?? found?.version.number;
    const preview = number ? el("img", { class: "preview", alt: title,
      src: pageImageUrl({ ...presented, number }, "thumb") }) : null;
    replace(box, el("div", { class: "muted" }, t("presenting")), el("div", { class: "title" }, title), preview,
      el("div", { class: "row tight" }, prev,
        el("span", { id: "presented-page" }, t("page_of", { page: presented.page, count })), next));
  }

  function render() {
    renderPresented();
    if (!documents.length) { replace(list, el("li", { class: "muted" }, t("no_documents"))); return; }
    const items = new Map(store.state.agenda.map((i) => [i.id, i]));
    replace(list, documents.map((doc) => {
      const version = doc.current_version;
      const push = el("button", { type: "button", class: "btn small secondary", dataset: { push: doc.id } }, t("push"));
      push.addEventListener("click", () => act(push,
        () => api("POST", `/api/v1/meetings/${meetingId}/push`, { document_id: doc.id }), t("pushed")));
      const project = el("button", { type: "button", class: "btn small", dataset: { present: doc.id },
        disabled: !version || doc.access !== "all" }, t("present"));
      project.addEventListener("click", () => {
        if (doc.confidential && !window.confirm(t("confirm.present_confidential"))) return;
        present(version, 1, project);
      });
      const item = items.get(doc.agenda_item_id);
      const meta = [item ? `${item.number}.` : null, version ? t("pages", { n: version.page_count }) : null,
        version && version.pages_rendered < version.page_count
          ? t("rendering", { done: version.pages_rendered, n: version.page_count }) : null]
        .filter(Boolean).join(" · ");
      return el("li", { class: "doc", dataset: { documentId: doc.id } },
        el("span", { class: "title" }, doc.title, doc.confidential ? [" ", el("span", { class: "tag" }, t("confidential"))] : null),
        push, project, el("span", { class: "meta" }, meta));
    }));
  }

  store.subscribe((what) => {
    if (what === "snapshot" || what === "documents") load().catch((err) => console.warn("documents", err.message));
    else if (what === "presented" || what === "item") render();
  });
  return { turn };
}
