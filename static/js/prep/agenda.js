// Agenda editor comfort: Alt+Shift+arrows move the item whose buttons have the
// focus (plain Alt+←/→ would be the browser's Back and Forward). The page that
// comes back puts the focus on the same item by itself (autofocus).
const KEYS = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "outdent", ArrowRight: "indent" };

export function moveButton(item, direction) {
  const form = item.querySelector(":scope > .item-row > form.move-buttons");
  return form ? form.querySelector(`button[value="${direction}"]`) : null;
}

function onKeydown(event) {
  const direction = KEYS[event.key];
  if (!direction || !event.altKey || !event.shiftKey) return;
  const item = event.target.closest(".agenda-item");
  const button = item && moveButton(item, direction);
  if (button && !button.disabled) {
    event.preventDefault();
    button.click();
  }
}

const tree = document.getElementById("agenda-tree");
if (tree) {
  tree.addEventListener("keydown", onKeydown);
}
