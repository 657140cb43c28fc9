// Mark the passage a comment is about: drag a rectangle on the page image. The region is
// written as "x0,y0,x1,y1" (0..1 of the page) into the form's hidden input; the server
// reads the words under it from the PDF.
const sheet = document.getElementById("draft-sheet");
const input = document.getElementById(sheet?.dataset.regionInput || "region");
const box = sheet?.querySelector(".region-box");
const hint = document.getElementById("region-hint");

function at(event) {
  const rect = sheet.getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, v));
  return [clamp((event.clientX - rect.left) / rect.width), clamp((event.clientY - rect.top) / rect.height)];
}

function show(region) {
  const [x0, y0, x1, y1] = region;
  Object.assign(box.style, { left: `${x0 * 100}%`, top: `${y0 * 100}%`, width: `${(x1 - x0) * 100}%`, height: `${(y1 - y0) * 100}%` });
  box.hidden = false;
}

if (sheet && input && box) {
  let start = null;
  sheet.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    sheet.setPointerCapture(event.pointerId);
    start = at(event);
  });
  sheet.addEventListener("pointermove", (event) => {
    if (!start) return;
    const [x, y] = at(event);
    show([Math.min(start[0], x), Math.min(start[1], y), Math.max(start[0], x), Math.max(start[1], y)]);
  });
  sheet.addEventListener("pointerup", (event) => {
    if (!start) return;
    const [x, y] = at(event);
    const region = [Math.min(start[0], x), Math.min(start[1], y), Math.max(start[0], x), Math.max(start[1], y)];
    start = null;
    if (region[2] - region[0] < 0.01 || region[3] - region[1] < 0.005) { box.hidden = true; input.value = ""; return; }
    show(region);
    input.value = region.map((v) => v.toFixed(4)).join(",");
    if (hint) hint.hidden = true;
  });
}
