// GELU is exact only as far as its erf is: the approximation must stay under f32 resolution.
import { erf } from '../activations';

describe('erf', () => {
  it('matches reference values to 2e-7', () => {
    // erf at 0, ±0.5, ±1, 2, 3 (tabulated values)
    expect<f64>(Math.abs(erf(0.0))).toBeLessThan(2e-7);
    expect<f64>(Math.abs(erf(0.5) - 0.5204998778130465)).toBeLessThan(2e-7);
    expect<f64>(Math.abs(erf(-0.5) + 0.5204998778130465)).toBeLessThan(2e-7);
    expect<f64>(Math.abs(erf(1.0) - 0.8427007929497149)).toBeLessThan(2e-7);
    expect<f64>(Math.abs(erf(-1.0) + 0.8427007929497149)).toBeLessThan(2e-7);
    expect<f64>(Math.abs(erf(2.0) - 0.9953222650189527)).toBeLessThan(2e-7);
    expect<f64>(Math.abs(erf(3.0) - 0.9999779095030014)).toBeLessThan(2e-7);
  });

  it('is odd and monotone on [-4, 4]', () => {
    let prev = erf(-4.0);
    for (let i = -399; i <= 400; i++) {
      const x = <f64>i / 100;
      const v = erf(x);
      expect<f64>(v).toBeGreaterThanOrEqual(prev);
      expect<f64>(Math.abs(v + erf(-x))).toBeLessThan(1e-8); // the fit leaves erf(0) at ~1e-9
      prev = v;
    }
  });
});
