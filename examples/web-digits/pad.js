// The drawing pad: pointer events (mouse, touch, pen), strokes kept as data, one redraw per
// animation frame. The canvas is a pure function of the strokes, so undo, resizing and tests
// all see exactly what was drawn.
//
// The strokes are painted twice: on the visible canvas, sharp at the screen's pixel density, and
// on a fixed 224×224 ink canvas (8× MNIST's 28) that the model's input is computed from, so the
// work per frame is the same on a phone as on a desktop. Ink is painted on transparent canvases
// and read back from the alpha channel: 1 is ink, 0 is paper, whatever the theme's colours.

/** Brush width as a fraction of the pad's side: about MNIST's stroke for a digit filling ~70% of the pad. */
export const BRUSH = 0.075;
/** The visible canvas follows devicePixelRatio up to this. */
const MAX_SCALE = 2;
/** Side of the ink canvas the grayscale image is read from. */
export const INK_SIDE = 224;

export class Pad {
  /**
   * @param {HTMLCanvasElement} canvas the visible pad
   * @param {HTMLCanvasElement} ink a canvas (not displayed) to paint the model's copy on
   * @param {{ onChange?: (pad: Pad) => void, onStrokeEnd?: (pad: Pad) => void }} [handlers]
   *   onChange: after a redraw that changed the ink (at most once per frame)
   */
  constructor(canvas, ink, handlers = {}) {
    this.canvas = canvas;
    this.ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    ink.width = ink.height = INK_SIDE;
    this.ink = /** @type {CanvasRenderingContext2D} */ (ink.getContext('2d', { willReadFrequently: true }));
    this.gray = new Float32Array(INK_SIDE * INK_SIDE);
    this.color = '';
    // the theme's ink colour, read when the colour scheme changes rather than on every frame
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', () => { this.color = ''; this.request(); });
    this.handlers = handlers;
    /** @type {Array<Array<[number, number]>>} strokes, points in pad units (0..1) */
    this.strokes = [];
    this.active = null; // { pointerId, stroke }
    this.frame = 0;
    this.size();
    new ResizeObserver(() => { if (this.size()) this.request(); }).observe(canvas);
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
    canvas.addEventListener('lostpointercapture', (e) => this.up(e));
  }

  get empty() { return this.strokes.length === 0; }
  get drawing() { return this.active !== null; }

  /** Match the backing store to the displayed size; true if it changed. */
  size() {
    const rect = this.canvas.getBoundingClientRect();
    const scale = Math.min(MAX_SCALE, window.devicePixelRatio || 1);
    const side = Math.max(1, Math.round(Math.min(rect.width, rect.height || rect.width) * scale));
    if (this.canvas.width === side && this.canvas.height === side) return false;
    this.canvas.width = side;
    this.canvas.height = side;
    return true;
  }

  /** Pointer position in pad units. */
  point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [(e.clientX - rect.left) / rect.width, (e.clientY - rect.top) / rect.height];
  }

  down(e) {
    if (this.active || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    const stroke = [this.point(e)];
    this.strokes.push(stroke);
    this.active = { pointerId: e.pointerId, stroke };
    this.request();
  }

  move(e) {
    if (!this.active || e.pointerId !== this.active.pointerId) return;
    e.preventDefault();
    // a pen or a fast finger delivers several points per frame: keep them all
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const c of events.length ? events : [e]) this.active.stroke.push(this.point(c));
    this.request();
  }

  up(e) {
    if (!this.active || e.pointerId !== this.active.pointerId) return;
    if (e.type === 'pointerup') this.active.stroke.push(this.point(e));
    this.active = null;
    this.request();
    this.handlers.onStrokeEnd?.(this);
  }

  clear() {
    this.strokes = [];
    this.active = null;
    this.request();
  }

  undo() {
    if (this.active) return;
    this.strokes.pop();
    this.request();
  }

  /** Schedule one redraw (and onChange) for the next frame. */
  request() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); this.handlers.onChange?.(this); });
  }

  /** Paint the strokes on both canvases. */
  render() {
    this.color ||= getComputedStyle(this.canvas).getPropertyValue('--ink').trim() || '#111';
    this.paint(this.ctx, this.color);
    this.paint(this.ink, '#000');
  }

  /** Paint every stroke: round caps and joins, so a tap is a dot and corners are smooth. */
  paint(ctx, color) {
    const side = ctx.canvas.width;
    ctx.clearRect(0, 0, side, side);
    ctx.fillStyle = ctx.strokeStyle = color;
    ctx.lineWidth = BRUSH * side;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (const stroke of this.strokes) {
      if (stroke.length === 1 || stroke.every(([x, y]) => x === stroke[0][0] && y === stroke[0][1])) {
        ctx.beginPath();
        ctx.arc(stroke[0][0] * side, stroke[0][1] * side, ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(stroke[0][0] * side, stroke[0][1] * side);
      for (let i = 1; i < stroke.length; i++) ctx.lineTo(stroke[i][0] * side, stroke[i][1] * side);
      ctx.stroke();
    }
  }

  /**
   * The ink as a grayscale image for toMnist: { width, height, data } with 1 = ink, 0 = paper.
   * The data buffer is reused by the next call.
   */
  grayImage() {
    const rgba = this.ink.getImageData(0, 0, INK_SIDE, INK_SIDE).data;
    const data = this.gray;
    for (let i = 0; i < data.length; i++) data[i] = rgba[4 * i + 3] / 255;
    return { width: INK_SIDE, height: INK_SIDE, data };
  }
}
