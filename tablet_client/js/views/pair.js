// Pairing: the QR link (#pair=<secret>) pairs by itself; otherwise the delegate types the PIN
// (the code's number and its 6 digits).
import { ApiError, api } from "../api.js";
import { kvSet } from "../db.js";
import { t } from "../i18n.js";
import { el } from "../ui.js";

/** POST /api/v1/pair with {code} or {pin}; stores and returns the pairing. */
export async function pair(credential) {
  const label = `${navigator.platform || "tablet"} — ${navigator.userAgent.slice(0, 120)}`;
  const answer = await api("/pair", { method: "POST", body: { ...credential, label } });
  const pairing = {
    token: answer.token,
    meeting_id: answer.device.meeting_id,
    participant_id: answer.device.participant_id,
    device_id: answer.device.device_id,
  };
  await kvSet("pairing", pairing).catch(() => {});
  localStorage.setItem("hemicycle.pairing", JSON.stringify(pairing));
  return pairing;
}

export function render(container, { message, onPaired }) {
  const status = el("p", { class: "pair-status", role: "status" }, message || "");
  const pin = el("input", {
    id: "pin", class: "pin-input", inputmode: "numeric", autocomplete: "one-time-code",
    // The PIN names its code: "27-482913" (the dash may be left out).
    maxlength: "20", "aria-label": t("pair_pin"), placeholder: "27-482913",
  });
  const button = el("button", { type: "submit", class: "primary big" }, t("pair_button"));
  const form = el("form", { class: "pair-form" },
    el("label", { for: "pin" }, t("pair_pin")), pin, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = pin.value.replace(/\D/g, "");
    if (value.length < 7 || value.length > 16) { pin.focus(); return; }
    button.disabled = true;
    status.textContent = t("pairing");
    try {
      onPaired(await pair({ pin: value }));
    } catch (err) {
      status.textContent = err instanceof ApiError && err.offline ? t("pair_offline")
        : t("pair_failed", { message: err.message });
      button.disabled = false;
    }
  });
  container.append(el("section", { class: "pair card" },
    el("h1", {}, t("pair_title")), el("p", { class: "lead" }, t("pair_intro")), form, status));
}
