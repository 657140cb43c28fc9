// Agenda editor comfort: Alt+arrows move the focused item, and after a move
// (the page reloads at #item-<id>) the focus returns to that item.
const KEYS = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "outdent", ArrowRight: "indent" };

export function moveButton(item, direction) {
  const form = item.querySelector(":scope > .item-row > form.move-buttons");
  return form ? form.querySelector(`button[value="${direction}"]`) : null;
}

function onKeydown(event) {
  const direction = KEYS[event.key];
  if (!direction || !event.altKey) return;
  const item = event.target.closest(".agenda-item");
  const button = item && moveButton(item, direction);
  if (button && !button.disabled) {
    event.preventDefault();
    sessionStorage.setItem("prep.agenda.focus", direction);
    button.click();
  }
}

function restoreFocus() {
  const match = /^#item-(\d+)$/.exec(window.location.hash);
  if (!match) return;
  const item = document.getElementById(`item-${match[1]}`);
  if (!item) return;
  item.classList.add("just-changed");
  const wanted = sessionStorage.getItem("prep.agenda.focus") || "up";
  sessionStorage.removeItem("prep.agenda.focus");
  const buttons = [moveButton(item, wanted), ...item.querySelectorAll(".item-row button")];
  const target = buttons.find((b) => b && !b.disabled);
  if (target) target.focus();
}

const tree = document.getElementById("agenda-tree");
if (tree) {
  tree.addEventListener("keydown", onKeydown);
  restoreFocus();
}
