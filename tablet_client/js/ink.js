// Drawing annotations on a canvas over a page image. Coordinates are page-relative (0..1),
// so marks stay in place at any zoom and on any screen.
export const TOOLS = {
  pen: { kind: "ink", color: "#1f4fd1", width: 0.003, alpha: 1 },
  highlighter: { kind: "highlight", color: "#ffd400", width: 0.02, alpha: 0.35 },
};

/** Draw every stroke of the page; notes are DOM pins, not drawn here. */
export function drawAll(canvas, annotations, current = null) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const a of annotations) if (a.kind !== "note") stroke(ctx, canvas, a);
  if (current) stroke(ctx, canvas, current);
}

export function stroke(ctx, canvas, a) {
  const points = a.data.points || [];
  if (!points.length) return;
  const w = canvas.width;
  const h = canvas.height;
  ctx.save();
  ctx.globalAlpha = a.kind === "highlight" ? 0.35 : 1;
  ctx.strokeStyle = a.data.color || "#1f4fd1";
  ctx.lineWidth = Math.max(1, (a.data.width || 0.003) * w);
  ctx.lineCap = a.kind === "highlight" ? "butt" : "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(points[0][0] * w, points[0][1] * h);
  for (const [x, y] of points.slice(1)) ctx.lineTo(x * w, y * h);
  if (points.length === 1) ctx.lineTo(points[0][0] * w + 0.5, points[0][1] * h);
  ctx.stroke();
  ctx.restore();
}

/** The pointer's position on the canvas, page-relative and clamped to 0..1. */
export function relative(canvas, event) {
  const box = canvas.getBoundingClientRect();
  const x = (event.clientX - box.left) / box.width;
  const y = (event.clientY - box.top) / box.height;
  const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
  return [clamp(x), clamp(y)];
}

/** Whether a point is on (near) the annotation; tolerance is page-relative. */
export function hits(annotation, [x, y], tolerance = 0.02) {
  const points = annotation.data.points || [];
  const reach = tolerance + (annotation.data.width || 0) / 2;
  for (let i = 0; i < points.length; i += 1) {
    const [ax, ay] = points[i];
    const [bx, by] = points[Math.min(i + 1, points.length - 1)];
    const dx = bx - ax;
    const dy = by - ay;
    const len = dx * dx + dy * dy;
    const k = len ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len)) : 0;
    const px = ax + k * dx - x;
    const py = ay + k * dy - y;
    if (px * px + py * py <= reach * reach) return true;
  }
  return false;
}

/** Fewer points for the same line: drop points closer than ``min`` to the last kept one. */
export function simplify(points, min = 0.002) {
  const kept = [];
  for (const p of points) {
    const last = kept[kept.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) >= min) kept.push(p);
  }
  const end = points[points.length - 1];
  if (end && kept[kept.length - 1] !== end) kept.push(end);
  return kept;
}
