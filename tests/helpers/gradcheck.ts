// The one shared finite-difference gradient checker. Every backward test (kernels now, layers and
// models later) compares its analytic gradient with central differences of a scalar function:
//
//     num_i = (f(x + h·e_i) − f(x − h·e_i)) / (x_i⁺ − x_i⁻)
//
// The function is usually evaluated by WebAssembly in f32, which shapes two choices:
//  - The perturbed coordinates are rounded to f32 (x_i⁺ = fround(x_i + h)) and the difference is
//    divided by the step that was actually taken, x_i⁺ − x_i⁻, not by 2h. Near 1000 an f32 step
//    of 0.01 is really 0.0100098…, and ignoring that costs a 1e-4 relative error for nothing.
//  - h defaults to 1e-2: f32 rounding noise in f is ~6e-8·|f|, which the difference quotient
//    amplifies by 1/(2h), while truncation error is ~h²·|f'''|/6. At h = 1e-2 both stay near 1e-5
//    for O(1) functions, so rtol = 1e-2 with atol = 1e-4 is honest yet still rejects a gradient
//    that is off by 10% or has one wrong element (see the helper's own tests).
// The function must be smooth within ±h of x: keep sample points away from kinks (relu at 0,
// |p − t| = 0 for mae) by more than h.

export interface GradcheckOptions {
  /** finite-difference step (default 1e-2) */
  h?: number;
  /** relative tolerance on max(|numeric|, |analytic|) (default 1e-2) */
  rtol?: number;
  /** absolute tolerance (default 1e-4) */
  atol?: number;
  /** round perturbed points to f32 before evaluating (default true: f is evaluated in f32) */
  f32?: boolean;
}

export interface GradcheckResult {
  /** every element within atol + rtol·max(|numeric|, |analytic|) */
  ok: boolean;
  /** largest |numeric − analytic| over all elements */
  maxError: number;
  /** index whose error exceeds its tolerance by the largest factor (−1 when x is empty) */
  worst: number;
  /** |numeric − analytic| / tolerance at `worst`: ok ⇔ ratio ≤ 1 */
  ratio: number;
  numeric: Float64Array;
  analytic: Float64Array;
}

/** Central-difference gradient of f at x. x is restored before returning. */
export function numericGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-2, roundF32 = true): Float64Array {
  const grad = new Float64Array(x.length);
  const round = roundF32 ? Math.fround : (v: number) => v;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const up = round(xi + h);
    const down = round(xi - h);
    if (!(up > down)) throw new Error(`gradcheck: step h = ${h} vanishes at index ${i} (x = ${xi})`);
    x[i] = up;
    const fUp = f(x);
    x[i] = down;
    const fDown = f(x);
    x[i] = xi;
    grad[i] = (fUp - fDown) / (up - down);
  }
  return grad;
}

/** Compare an analytic gradient of f at x with central differences. */
export function gradcheck(
  f: (x: Float64Array) => number,
  x: Float64Array,
  analytic: ArrayLike<number>,
  opts: GradcheckOptions = {},
): GradcheckResult {
  const { h = 1e-2, rtol = 1e-2, atol = 1e-4, f32 = true } = opts;
  if (analytic.length !== x.length) {
    throw new Error(`gradcheck: analytic gradient has ${analytic.length} elements, x has ${x.length}`);
  }
  const numeric = numericGradient(f, x, h, f32);
  const ana = Float64Array.from(analytic);
  let maxError = 0;
  let worst = -1;
  let ratio = 0;
  for (let i = 0; i < x.length; i++) {
    const err = Math.abs(numeric[i] - ana[i]);
    const r = Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.max(Math.abs(numeric[i]), Math.abs(ana[i])));
    if (!Number.isNaN(maxError) && !(err <= maxError)) maxError = err; // a NaN sticks
    if (worst < 0 || r > ratio) {
      worst = i;
      ratio = r;
    }
  }
  return { ok: ratio <= 1, maxError, worst, ratio, numeric, analytic: ana };
}

/** gradcheck that throws a readable assertion naming the worst element. */
export function expectGradClose(
  f: (x: Float64Array) => number,
  x: Float64Array,
  analytic: ArrayLike<number>,
  opts: GradcheckOptions & { label?: string } = {},
): GradcheckResult {
  const res = gradcheck(f, x, analytic, opts);
  if (!res.ok) {
    const { h = 1e-2, rtol = 1e-2, atol = 1e-4, label = 'gradient' } = opts;
    const i = res.worst;
    throw new Error(
      `${label}: gradcheck failed at index ${i} of ${x.length} (x = ${x[i]}): ` +
        `numeric ${res.numeric[i]}, analytic ${res.analytic[i]}, |diff| ${Math.abs(res.numeric[i] - res.analytic[i]).toExponential(3)} ` +
        `is ${res.ratio.toFixed(2)}× the tolerance (h ${h}, rtol ${rtol}, atol ${atol}); max |diff| ${res.maxError.toExponential(3)}`,
    );
  }
  return res;
}
