// Text notes on a page: writing one, and reading one.
import { t } from "../i18n.js";
import { el, modal } from "../ui.js";

/** Ask for the note's text; ``onSave(text)`` with a non-empty text. */
export function askNote(onSave) {
  const text = el("textarea", { id: "note-text", rows: "4", "aria-label": t("note_prompt") });
  const layer = modal("note-editor", el("h2", {}, t("note_prompt")), text,
    el("div", { class: "actions" },
      el("button", { class: "primary big", id: "save-note", onclick: () => {
        const value = text.value.trim();
        layer.close();
        if (value) onSave(value);
      } }, t("note_save")),
      el("button", { class: "secondary big", onclick: () => layer.close() }, t("cancel"))));
  text.focus();
}

export function showNote(annotation) {
  const layer = modal("note-view", el("p", { class: "note-text" }, annotation.data.text),
    el("button", { class: "secondary big", onclick: () => layer.close() }, t("close")));
}
