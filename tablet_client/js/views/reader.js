// The reader: page images with thumbnails, zoom (buttons and pinch), swipe to turn pages,
// following the presenter (or reading freely and rejoining with one tap), and annotations.
import * as annotations from "../annotations.js";
import { ApiError, uuid4 } from "../api.js";
import * as drafts from "../drafts.js";
import { readingGestures } from "../gestures.js";
import { t } from "../i18n.js";
import { TOOLS, drawAll, hits, relative, simplify } from "../ink.js";
import { pageImage } from "../pages.js";
import * as store from "../store.js";
import { closeModal, el, toast } from "../ui.js";
import { findButton } from "./find.js";
import { askNote, showNote } from "./notes.js";

const ZOOMS = [1, 1.5, 2, 3];

export function render(container, app, args) {
  const docId = Number(args[0]);
  const doc = app.state.documents.find((d) => d.id === docId);
  if (!doc || !doc.current_version) {
    container.append(el("section", { class: "card" }, el("p", { class: "hint" }, t("no_documents")),
      el("a", { class: "button", href: "#docs" }, t("back"))));
    // The list may simply not be loaded yet: try again when it is.
    return store.subscribe((what) => { if (what === "documents" && app.state.documents.some((d) => d.id === docId)) app.navigate(location.hash); });
  }
  const version = doc.current_version;
  const meetingId = app.state.pairing.meeting_id;
  let page = Math.min(Math.max(1, Number(args[1]) || 1), version.page_count);
  let zoom = 0;
  let tool = "read";
  let shared = false;
  let marks = [];
  const undoStack = [];
  const redoStack = [];
  let alive = true;

  // Elements ---------------------------------------------------------------------------
  const img = el("img", { class: "page-img", alt: "" });
  const canvas = el("canvas", { class: "ink" });
  const pins = el("div", { class: "pins" });
  const commentBox = el("div", { class: "comment-box", hidden: true });
  const sheet = el("div", { class: "sheet" }, img, canvas, pins, commentBox);
  let commentPeriod = drafts.openFor(version.id);
  const draftBanner = el("p", { class: "draft-banner", hidden: true });
  const missing = el("p", { class: "page-missing", hidden: true }, t("page_unavailable"));
  const stage = el("div", { class: "stage tool-read" }, sheet, missing);
  const pageLabel = el("span", { class: "page-label" });
  const followBox = el("div", { class: "follow" });
  const thumbs = el("aside", { class: "thumbs", "aria-label": t("thumbnails") });
  const toolButtons = {};
  const toolbar = el("div", { class: "tools", role: "toolbar" },
    ["read", "pen", "highlighter", "note", "eraser"].map((name) => {
      toolButtons[name] = el("button", { class: `tool tool-${name}`, dataset: { tool: name }, "aria-pressed": "false",
        onclick: () => setTool(name) }, t(`tool_${name}`));
      return toolButtons[name];
    }),
    el("button", { class: "tool tool-comment", hidden: true, dataset: { tool: "comment" }, "aria-pressed": "false",
      onclick: () => setTool("comment") }, t("tool_comment")),
    el("button", { class: "tool comments-list", hidden: true,
      onclick: () => commentPeriod && drafts.showComments(commentPeriod) }, t("comments_button")),
    version.number > 1 ? el("button", { class: "tool carried-list",
      onclick: () => drafts.showCarried(doc.id, version) }, t("carried_button")) : null,
    el("button", { class: "tool undo", onclick: undo }, t("undo")),
    el("button", { class: "tool redo", onclick: redo }, t("redo")),
    el("label", { class: "share" },
      el("input", { type: "checkbox", id: "share-marks", onchange: (e) => { shared = e.target.checked; } }),
      t("share")),
    el("button", { class: "tool zoom-out", "aria-label": t("zoom_out"), onclick: () => setZoom(zoom - 1) }, "−"),
    el("button", { class: "tool zoom-in", "aria-label": t("zoom_in"), onclick: () => setZoom(zoom + 1) }, "+"),
    findButton(meetingId, doc, (target) => turn(target)),
    doc.can_download || doc.watermarked
      ? el("button", { class: "tool export", onclick: exportCopy }, t("export_copy")) : null);

  // A sealed meeting is read-only: its annotations can no longer change.
  const section = el("section", { class: app.state.sealed ? "reader sealed" : "reader" },
    el("div", { class: "reader-bar" },
      el("a", { class: "button back", href: "#docs" }, t("back")),
      el("h1", { class: "doc-title" }, doc.title,
        doc.confidential ? el("span", { class: "badge confidential" }, t("confidential")) : null),
      el("span", { class: "pager" },
        el("button", { class: "tool prev", "aria-label": t("previous_page"), onclick: () => turn(page - 1) }, "‹"),
        pageLabel,
        el("button", { class: "tool next", "aria-label": t("next_page"), onclick: () => turn(page + 1) }, "›")),
      followBox),
    toolbar, draftBanner,
    el("div", { class: "reader-body" }, thumbs, stage));
  container.append(section);

  // Pages ------------------------------------------------------------------------------
  function presentedHere() {
    const p = app.state.presented;
    return p && p.document_id === docId ? p : null;
  }

  function drawFollow() {
    const presented = app.state.presented;
    followBox.replaceChildren();
    if (!presented || !presented.document_id) return;
    if (app.follow && presented.document_id === docId) {
      followBox.append(el("span", { class: "following" }, t("following")));
    } else {
      followBox.append(el("span", { class: "detached" }, t("detached")),
        el("button", { class: "primary rejoin", onclick: rejoin }, t("rejoin")));
    }
  }

  function rejoin() {
    app.follow = true;
    const presented = app.state.presented;
    if (!presented) return;
    if (presented.document_id !== docId) app.navigate(`#doc/${presented.document_id}/${presented.page}`);
    else { goTo(presented.page); drawFollow(); }
  }

  function turn(target) {
    if (target < 1 || target > version.page_count || target === page) return;
    const presented = presentedHere();
    if (presented && target !== presented.page) app.follow = false;
    goTo(target);
    drawFollow();
  }

  async function goTo(target) {
    page = target;
    history.replaceState(null, "", `#doc/${docId}/${page}`);
    pageLabel.textContent = t("page_of", { page, count: version.page_count });
    sheet.dataset.page = String(page);
    for (const button of thumbs.children) button.classList.toggle("current", Number(button.dataset.page) === page);
    thumbs.querySelector(".current")?.scrollIntoView({ block: "nearest" });
    try {
      const url = await pageImage(meetingId, doc, version, target, "large");
      if (!alive || target !== page) return;
      missing.hidden = true;
      sheet.hidden = false;
      img.src = url;
      await img.decode().catch(() => {});
      layout();
    } catch (err) {
      if (target !== page) return;
      sheet.hidden = true;
      missing.hidden = false;
      missing.textContent = err instanceof ApiError && err.offline ? t("page_unavailable") : t("error", { message: err.message });
    }
    sheet.dataset.loaded = String(page);
    redraw();
  }

  function setZoom(index) {
    zoom = Math.max(0, Math.min(ZOOMS.length - 1, index));
    layout();
  }

  function layout(scale = ZOOMS[zoom]) {
    stage.classList.toggle("zoomed", scale > 1);
    const width = Math.max(200, stage.clientWidth - 24) * scale;
    sheet.style.width = `${Math.round(width)}px`;
    const ratio = img.naturalWidth ? img.naturalHeight / img.naturalWidth : 1.414;
    const height = Math.round(width * ratio);
    sheet.style.height = `${height}px`;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    redraw();
  }

  function onPage() { return marks.filter((a) => a.page_number === page); }

  function redraw(current = null) {
    drawAll(canvas, onPage(), current);
    pins.replaceChildren(...onPage().filter((a) => a.kind === "note").map((a) => {
      const pin = el("button", { class: `pin ${annotations.isMine(a) ? "mine" : "theirs"}`, title: a.data.text,
        "aria-label": a.data.text, dataset: { id: a.id }, onclick: () => noteClicked(a) }, "✎");
      pin.style.left = `${a.data.points[0][0] * 100}%`;
      pin.style.top = `${a.data.points[0][1] * 100}%`;
      return pin;
    }));
  }

  function buildThumbs() {
    for (let n = 1; n <= version.page_count; n += 1) {
      const thumbImg = el("img", { alt: "" });
      thumbs.append(el("button", { class: "thumb", dataset: { page: n }, onclick: () => turn(n) },
        thumbImg, el("span", {}, String(n))));
    }
    (async () => {
      for (const button of thumbs.children) {
        if (!alive) return;
        try {
          button.querySelector("img").src = await pageImage(meetingId, doc, version, Number(button.dataset.page), "thumb");
        } catch { /* offline and not cached: the number is enough */ }
      }
    })();
  }

  // Annotations ------------------------------------------------------------------------
  async function reloadMarks(fromServer) {
    marks = await annotations.load(doc, version, { fromServer });
    if (alive) { sheet.dataset.marks = String(marks.length); redraw(); }
  }

  function newMark(kind, data) {
    return { id: uuid4(), version_id: version.id, page_number: page, kind, shared,
             participant_id: app.state.pairing.participant_id, data };
  }

  async function add(annotation, record = true) {
    marks.push(annotation);
    sheet.dataset.marks = String(marks.length);
    redraw();
    if (record) { undoStack.push({ op: "add", annotation }); redoStack.length = 0; }
    await annotations.save(annotation);
  }

  async function remove(annotation, record = true) {
    marks = marks.filter((a) => a.id !== annotation.id);
    sheet.dataset.marks = String(marks.length);
    redraw();
    if (record) { undoStack.push({ op: "erase", annotation }); redoStack.length = 0; }
    await annotations.erase(annotation);
  }

  // Erasing is final on the server, so bringing a mark back makes a copy with a new id.
  const copy = (a) => ({ ...a, id: uuid4(), data: { ...a.data } });

  async function undo() {
    const step = undoStack.pop();
    if (!step) return;
    if (step.op === "add") await remove(step.annotation, false);
    else { step.annotation = copy(step.annotation); await add(step.annotation, false); }
    redoStack.push(step);
  }

  async function redo() {
    const step = redoStack.pop();
    if (!step) return;
    if (step.op === "add") { step.annotation = copy(step.annotation); await add(step.annotation, false); }
    else await remove(step.annotation, false);
    undoStack.push(step);
  }

  function setTool(name) {
    tool = name;
    stage.className = `stage tool-${name}${ZOOMS[zoom] > 1 ? " zoomed" : ""}`;
    for (const [key, button] of Object.entries(toolButtons)) button.setAttribute("aria-pressed", String(key === name));
    toolbar.querySelector(".tool-comment").setAttribute("aria-pressed", String(name === "comment"));
    if (name === "comment") toast(t("comment_hint"));
  }

  // Draft comments: drag a box over the passage, then write the comment ----------------
  function showDraft() {
    commentPeriod = drafts.openFor(version.id);
    const button = toolbar.querySelector(".tool-comment");
    button.hidden = !commentPeriod;
    toolbar.querySelector(".comments-list").hidden = !commentPeriod;
    draftBanner.hidden = !commentPeriod;
    if (commentPeriod) {
      draftBanner.textContent = t("draft_open", { deadline: new Date(commentPeriod.deadline).toLocaleString() });
    } else if (tool === "comment") setTool("read");
  }

  let commentStart = null;
  function drawBox(region) {
    const [x0, y0, x1, y1] = region;
    Object.assign(commentBox.style, { left: `${x0 * 100}%`, top: `${y0 * 100}%`, width: `${(x1 - x0) * 100}%`, height: `${(y1 - y0) * 100}%` });
    commentBox.hidden = false;
  }
  const boxOf = (a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
  function finishComment(point) {
    const start = commentStart;
    commentStart = null;
    if (!start || !commentPeriod) { commentBox.hidden = true; return; }
    let region = boxOf(start, point);
    if (region[2] - region[0] < 0.01 || region[3] - region[1] < 0.005) region = null;
    const onPageNow = page;
    const target = commentPeriod;
    drafts.askComment(region ? t("comment_region", { page: onPageNow }) : t("page_of", { page: onPageNow, count: version.page_count }), async (fields) => {
      commentBox.hidden = true;
      await drafts.submit(target, onPageNow, region, fields);
      sheet.dataset.comments = String(Number(sheet.dataset.comments || 0) + 1);
      if (app.connection !== "online") toast(t("comment_queued"));
    });
  }

  function noteClicked(a) {
    if (tool === "eraser" && annotations.isMine(a)) remove(a);
    else showNote(a);
  }

  let drawing = null;
  let erased = null;
  canvas.addEventListener("pointerdown", (event) => {
    if (tool === "read") return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    const point = relative(canvas, event);
    if (tool === "comment") { commentStart = point; drawBox([...point, ...point]); return; }
    if (tool === "note") {
      askNote((text) => add(newMark("note", { points: [point], color: "#ffb300", width: 0.004, text })));
      return;
    }
    if (tool === "eraser") { erased = new Set(); eraseAt(point); return; }
    const style = TOOLS[tool];
    drawing = newMark(style.kind, { points: [point], color: style.color, width: style.width, text: "" });
  });
  canvas.addEventListener("pointermove", (event) => {
    if (tool === "comment" && commentStart) { drawBox(boxOf(commentStart, relative(canvas, event))); return; }
    if (tool === "eraser" && erased) { eraseAt(relative(canvas, event)); return; }
    if (!drawing) return;
    for (const e of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) {
      drawing.data.points.push(relative(canvas, e));
    }
    redraw(drawing);
  });
  const finish = () => {
    erased = null;
    if (!drawing) return;
    const done = drawing;
    drawing = null;
    done.data.points = simplify(done.data.points);
    add(done);
  };
  canvas.addEventListener("pointerup", (event) => {
    if (tool === "comment") finishComment(relative(canvas, event));
    else finish();
  });
  canvas.addEventListener("pointercancel", finish);

  function eraseAt(point) {
    for (const a of onPage()) {
      if (!erased.has(a.id) && annotations.isMine(a) && hits(a, point)) {
        erased.add(a.id);
        remove(a);
      }
    }
  }

  // Reading gestures: swipe to turn pages, pinch to zoom ---------------------------------
  let pinchBase = 1;
  readingGestures(stage, {
    active: () => tool === "read",
    onSwipe: (direction) => { if (zoom === 0) turn(page + direction); },
    onPinchStart: () => { pinchBase = ZOOMS[zoom]; },
    onPinch: (ratio) => layout(Math.min(3, Math.max(1, pinchBase * ratio))),
    onPinchEnd: () => {
      const current = sheet.getBoundingClientRect().width / Math.max(1, stage.clientWidth - 24);
      zoom = ZOOMS.reduce((best, z, i) => (Math.abs(z - current) < Math.abs(ZOOMS[best] - current) ? i : best), 0);
      layout();
    },
  });

  async function exportCopy() {
    toast(t("exporting"));
    try {
      await annotations.downloadCopy(doc, version);
    } catch (err) {
      toast(err instanceof ApiError && err.offline ? t("offline_action") : t("error", { message: err.message }));
    }
  }

  // Start ---------------------------------------------------------------------------------
  const presentedNow = presentedHere();
  if (app.follow && presentedNow) page = presentedNow.page;
  buildThumbs();
  drawFollow();
  showDraft();
  drafts.load(meetingId).then(() => { if (alive) showDraft(); });
  setTool("read");
  goTo(page);
  reloadMarks(false).then(() => reloadMarks(app.connection === "online"));

  const onResize = () => layout();
  window.addEventListener("resize", onResize);
  const stopStore = store.subscribe((what) => {
    if (what === "presented" || what === "snapshot") {
      const presented = app.state.presented;
      if (app.follow && presented && presented.document_id) {
        if (presented.document_id !== docId) app.navigate(`#doc/${presented.document_id}/${presented.page}`);
        else if (presented.page !== page) goTo(presented.page);
      }
      drawFollow();
    }
    if (what === "drafts") showDraft();
    if (what === "wiped" && doc.confidential) app.navigate("#docs");
    if (app.state.sealed && !section.classList.contains("sealed")) {
      section.classList.add("sealed");
      setTool("read");
    }
  });
  const stopNotes = annotations.onChange((versionId) => { if (versionId === version.id) reloadMarks(false); });
  return () => {
    alive = false;
    closeModal("note-editor");
    window.removeEventListener("resize", onResize);
    stopStore();
    stopNotes();
  };
}
