// Reading gestures on the page stage: a sideways swipe turns the page, two fingers zoom.
// Pointer events, so a mouse or a pen works as well as a finger.
const SWIPE_MIN_X = 80;
const SWIPE_MAX_Y = 60;

/**
 * readingGestures(stage, {active, onSwipe(+1|-1), onPinchStart(), onPinch(ratio), onPinchEnd()})
 * ``active()`` says whether the stage is in reading mode (not drawing).
 */
export function readingGestures(stage, { active, onSwipe, onPinchStart, onPinch, onPinchEnd }) {
  const touches = new Map();
  let pinch = null;
  let swipe = null;
  const spread = () => {
    const [a, b] = [...touches.values()];
    return Math.hypot(a[0] - b[0], a[1] - b[1]);
  };
  stage.addEventListener("pointerdown", (event) => {
    if (!active()) return;
    touches.set(event.pointerId, [event.clientX, event.clientY]);
    if (touches.size === 2) {
      pinch = { distance: Math.max(1, spread()) };
      swipe = null;
      onPinchStart();
    } else {
      swipe = [event.clientX, event.clientY];
    }
  });
  stage.addEventListener("pointermove", (event) => {
    if (!touches.has(event.pointerId)) return;
    touches.set(event.pointerId, [event.clientX, event.clientY]);
    if (pinch && touches.size === 2) onPinch(spread() / pinch.distance);
  });
  const release = (event) => {
    if (!touches.has(event.pointerId)) return;
    touches.delete(event.pointerId);
    if (pinch) {
      if (touches.size < 2) { pinch = null; onPinchEnd(); }
      return;
    }
    if (swipe) {
      const dx = event.clientX - swipe[0];
      const dy = event.clientY - swipe[1];
      if (Math.abs(dx) > SWIPE_MIN_X && Math.abs(dy) < SWIPE_MAX_Y) onSwipe(dx < 0 ? 1 : -1);
    }
    swipe = null;
  };
  stage.addEventListener("pointerup", release);
  stage.addEventListener("pointercancel", release);
}
