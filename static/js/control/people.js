// Attendance and quorum, tablets (online, battery, pairing codes) and projector links.

import { act, api, el, notify, replace, t } from "./common.js";

const MARKS = ["present", "absent", "excused"];

/** Diacritic-insensitive text for searching Vietnamese names ("nguyen" finds "Nguyễn"). */
function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
}

async function qrImage(meetingId, text, alt) {
  const response = await api("POST", `/meetings/${meetingId}/control/qr.svg`, { text }, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  return el("img", { src: url, alt, width: "176", height: "176" });
}

function localTime(iso) {
  return iso ? new Date(iso).toLocaleString([], { hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit" }) : "";
}

export function mountPeople(ctx) {
  const { store, meetingId } = ctx;
  const quorumLine = document.getElementById("quorum");
  const countLine = document.getElementById("attendance-count");
  const list = document.getElementById("people");
  const filter = document.getElementById("people-filter");
  const deviceList = document.getElementById("device-list");
  const tabletCount = document.getElementById("tablet-count");
  const pairingBox = document.getElementById("pairing-result");
  const projectorButton = document.getElementById("make-projector");
  const projectorBox = document.getElementById("projector-result");
  const projectorList = document.getElementById("projector-list");
  let devices = [];
  let reloadTimer = null;
  let lastProjectorUrl = null;  // the display link made on this page, shown once

  function renderQuorum() {
    const q = store.state.quorum;
    if (!q) { replace(quorumLine); return; }
    quorumLine.className = `quorum ${q.reached ? "reached" : "missing"}`;
    replace(quorumLine, `${t(q.reached ? "quorum.reached" : "quorum.missing")} — `,
      t("quorum.line", { present: q.present, members: q.members, required: q.required }));
    const people = [...store.state.participants.values()];
    const count = (status) => people.filter((p) => p.attendance === status).length;
    countLine.textContent = t("present_count", { present: count("present"), excused: count("excused"), absent: count("absent") });
  }

  function mark(person, status, button) {
    const payload = { participant_id: person.participant_id, status };
    if (status === "excused") {
      const excuse = window.prompt(t("excuse_prompt"), person.excuse || "");
      if (excuse === null) return;
      payload.excuse = excuse;
    }
    ctx.command("attendance.mark", payload, button);
  }

  async function pairingCode(person, button) {
    await act(button, async () => {
      const code = await api("POST", `/api/v1/meetings/${meetingId}/participants/${person.participant_id}/pairing-code`);
      const link = new URL(code.pair_path, window.location.origin).href;
      const image = await qrImage(meetingId, link, `${t("pair")}: ${person.name}`);
      pairingBox.hidden = false;
      const close = el("button", { type: "button", class: "btn small ghost", id: "pairing-close" }, t("hide"));
      close.addEventListener("click", () => { pairingBox.hidden = true; replace(pairingBox); button.focus(); });
      replace(pairingBox, el("strong", {}, person.name), image,
        el("div", {}, `${t("pin")}: `, el("span", { class: "pin", id: "pairing-pin" }, code.pin)),
        el("div", { class: "muted" }, t("expires", { time: localTime(code.expires_at) })),
        el("p", { class: "muted" }, t("pair_hint")), close);
      pairingBox.scrollIntoView({ block: "nearest" });
    });
  }

  function renderPeople() {
    const wanted = fold(filter?.value || "");
    const online = store.state.online;
    const people = [...store.state.participants.values()].filter((p) => !wanted || fold(p.name).includes(wanted));
    replace(list, people.map((person) => {
      const isOnline = online.has(person.participant_id);
      const marks = MARKS.map((status) => {
        const button = el("button", { type: "button", dataset: { status }, "aria-pressed": String(person.attendance === status),
          "aria-label": `${t(`${status}_mark`)}: ${person.name}` }, t(`${status}_mark`));
        button.addEventListener("click", () => mark(person, status, button));
        return button;
      });
      const pair = el("button", { type: "button", class: "icon-btn", title: t("pair"), "aria-label": `${t("pair")}: ${person.name}`,
        dataset: { pair: person.participant_id } }, "QR");
      pair.addEventListener("click", () => pairingCode(person, pair));
      return el("li", { dataset: { participantId: person.participant_id, attendance: person.attendance } },
        el("span", { class: `dot${isOnline ? " online" : ""}`, title: t(isOnline ? "online" : "offline_tablet") }),
        el("span", { class: "who" }, person.name,
          el("small", {}, [t(`role.${person.role}`) || person.role, person.seat, person.excuse].filter(Boolean).join(" · "))),
        el("span", { class: "marks", role: "group" }, marks), pair);
    }));
  }

  async function loadDevices() {
    devices = await api("GET", `/meetings/${meetingId}/control/devices`);
    renderDevices();
  }

  function retire(device, button) {
    if (!window.confirm(t("confirm.unpair"))) return;
    act(button, () => api("DELETE", `/api/v1/devices/${device.device_id}`), t("done"));
  }

  function wipe(device, button) {
    if (!window.confirm(t("confirm.wipe"))) return;
    act(button, async () => {
      await api("POST", `/api/v1/devices/${device.device_id}/wipe`);
      scheduleDevices();
    }, t("done"));
  }

  function renderDevices() {
    const tablets = devices.filter((d) => d.kind === "tablet");
    const projectors = devices.filter((d) => d.kind === "projector");
    tabletCount.textContent = `${tablets.filter((d) => d.online).length} / ${tablets.length} ${t("online")}`;
    replace(deviceList, tablets.map((device) => {
      const status = device.status || {};
      const facts = [];
      if (typeof status.battery === "number") facts.push(t("battery", { pct: `${Math.round(status.battery * 100)}%` }));
      if (status.charging) facts.push(t("charging"));
      if (status.connection) facts.push(String(status.connection));
      if (!device.online && device.last_seen_at) facts.push(t("last_seen", { time: localTime(device.last_seen_at) }));
      const wipePending = device.wipe_requested_at && (!device.wiped_at || device.wiped_at < device.wipe_requested_at);
      if (wipePending) facts.push(t("wipe_requested", { time: localTime(device.wipe_requested_at) }));
      else if (device.wiped_at) facts.push(t("wiped", { time: localTime(device.wiped_at) }));
      const wipeButton = el("button", { type: "button", class: "icon-btn", title: t("confirm.wipe"),
        "aria-label": `${t("wipe")}: ${device.participant_name}`, dataset: { wipe: device.device_id } }, t("wipe"));
      wipeButton.addEventListener("click", () => wipe(device, wipeButton));
      const unpair = el("button", { type: "button", class: "icon-btn", title: t("unpair"), "aria-label": `${t("unpair")}: ${device.participant_name}` }, "✕");
      unpair.addEventListener("click", () => retire(device, unpair));
      return el("li", { dataset: { deviceId: device.device_id, online: String(device.online) } },
        el("span", { class: `dot${device.online ? " online" : ""}` }),
        el("span", { class: "who" }, device.participant_name || device.label), wipeButton, unpair,
        el("small", {}, [t(device.online ? "online" : "offline_tablet"), ...facts].join(" · ")));
    }));
    replace(projectorList, projectors.map((device) => {
      const button = el("button", { type: "button", class: "btn small ghost" }, t("retire"));
      button.addEventListener("click", () => retire(device, button));
      return el("li", {}, el("span", { class: `dot${device.online ? " online" : ""}` }),
        el("span", { class: "who" }, `${device.label} #${device.device_id}`), button);
    }));
  }

  projectorButton?.addEventListener("click", () => act(projectorButton, async () => {
    const answer = await api("POST", `/api/v1/meetings/${meetingId}/projectors`, { label: "" });
    const url = new URL(`/display/${answer.token}`, window.location.origin).href;
    lastProjectorUrl = url;
    projectorBox.hidden = false;
    replace(projectorBox, el("p", {}, t("projector_made")),
      el("code", { id: "projector-url" }, url), await qrImage(meetingId, url, url),
      el("div", { class: "row tight" },
        el("a", { href: url, target: "_blank", rel: "noopener", class: "btn small" }, t("open_light")),
        el("a", { href: `${url}?theme=dark`, target: "_blank", rel: "noopener", class: "btn small secondary" }, t("open_dark"))));
  }));

  const doorButton = document.getElementById("make-door");
  const doorBox = document.getElementById("door-result");
  doorButton?.addEventListener("click", () => act(doorButton, async () => {
    const { token } = await api("POST", `/api/v1/meetings/${meetingId}/door-token`);
    const link = new URL(`/tablet/#checkin=${encodeURIComponent(token)}`, window.location.origin).href;
    doorBox.hidden = false;
    replace(doorBox, el("p", {}, t("door_made")), await qrImage(meetingId, link, link),
      el("code", { id: "door-link" }, link),
      lastProjectorUrl ? el("a", { href: `${lastProjectorUrl}?door=${encodeURIComponent(token)}`, target: "_blank",
        rel: "noopener", id: "door-projector-link" }, t("door_on_projector")) : null);
  }));

  function scheduleDevices() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => loadDevices().catch((err) => notify(err.message, "error")), 300);
  }

  filter?.addEventListener("input", renderPeople);
  store.subscribe((what) => {
    if (["snapshot", "attendance", "presence"].includes(what)) { renderQuorum(); renderPeople(); }
    if (["snapshot", "devices", "presence"].includes(what)) scheduleDevices();
  });
}
