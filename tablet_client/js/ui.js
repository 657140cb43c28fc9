// Small DOM helpers: build elements without HTML strings (no inline styles, no injection).

/** el("button", {class: "big", onclick: fn, dataset: {id: 1}}, "text", child, ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

let toastTimer = null;
export function toast(message) {
  const box = document.querySelector("#toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

/** A modal sheet over the page; returns {box, close}. */
export function modal(className, ...children) {
  const layer = document.querySelector("#overlay");
  const box = el("div", { class: `sheet-modal ${className}`, role: "dialog", "aria-modal": "true" }, ...children);
  layer.replaceChildren(box);
  layer.hidden = false;
  return {
    box,
    close() {
      if (layer.firstChild === box) {
        layer.replaceChildren();
        layer.hidden = true;
      }
    },
  };
}

export function closeModal(className) {
  const layer = document.querySelector("#overlay");
  if (!className || layer.querySelector(`.${className}`)) {
    layer.replaceChildren();
    layer.hidden = true;
  }
}

/** "mm:ss" for a number of seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
