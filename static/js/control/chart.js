// Vote progress and result bars, drawn with elements and width classes
// (w-0 … w-100 in steps of 2: the CSP forbids inline style attributes).

import { el, t } from "./common.js";

export function widthClass(part, whole) {
  if (!whole || whole <= 0) return "w-0";
  const pct = Math.max(0, Math.min(100, (Number(part) / Number(whole)) * 100));
  return `w-${Math.round(pct / 2) * 2}`;
}

export function progressBar(cast, members, label) {
  return el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0",
    "aria-valuemax": String(members || 0), "aria-valuenow": String(cast || 0), "aria-label": label },
  el("span", { class: widthClass(cast, members) }));
}

/** The result as bars: one per option, sized by weight, with count (and weight when it differs). */
export function resultBars(result) {
  const options = result?.options || [];
  const top = Math.max(1, ...options.map((o) => Number(o.weight)));
  const total = options.reduce((sum, o) => sum + Number(o.weight), 0);
  return el("ul", { class: "bars result-bars" }, options.map((option) => {
    const weight = Number(option.weight);
    const share = total > 0 ? Math.round((weight / total) * 100) : 0;
    const figure = weight === option.count ? `${option.count}` : `${option.count} (${option.weight})`;
    return el("li", { dataset: { option: option.key } },
      el("span", { class: "label" }, option.label),
      el("span", { class: "bar" }, el("span", { class: widthClass(weight, top) })),
      el("span", { class: "figure" }, figure, el("span", { class: "share" }, ` · ${share}%`)));
  }));
}

export function outcomeLine(result) {
  if (!result) return null;
  return el("div", { class: `outcome ${result.outcome}` }, t(`outcome.${result.outcome}`),
    el("span", { class: "muted" }, ` · ${t("ballots", { n: result.ballots ?? 0 })}`));
}
