// The divergence guard: non-finite losses, and finite ones that explode past the documented bound
// 10^4 × max(lowest loss of the fit, 10^-2 × first loss, 10^-3); never a loss that merely wobbles.
import { describe, expect, it } from 'vitest';
import { DivergenceGuard } from '../../src/guard';

const run = (losses: number[]): Array<string | undefined> => {
  const g = new DivergenceGuard();
  return losses.map((l) => g.check(l));
};

describe('DivergenceGuard', () => {
  it('lets healthy, noisy training through', () => {
    expect(run([2.3, 1.5, 2.9, 0.4, 0.02, 0.9, 0.0001, 5]).every((w) => w === undefined)).toBe(true);
    expect(run([0, 0, 9, 0]).every((w) => w === undefined)).toBe(true); // a perfect start sets no trap below 10
    expect(run([1e6, 10, 5e6]).every((w) => w === undefined)).toBe(true); // large-scale regression
  });

  it('stops non-finite losses and explosions past the bound', () => {
    expect(run([1, NaN])[1]).toMatch(/became NaN/);
    expect(run([1, Infinity])[1]).toMatch(/became Infinity/);
    expect(run([2.3, 1, 5.9e5])[2]).toMatch(/exploded/);
    expect(run([2.3, 1e-6, 231])[2]).toMatch(/exploded/); // 10^4 × (10^-2 × 2.3) = 230
    expect(run([2.3, 1e-6, 229])[2]).toBeUndefined();
    expect(run([0, 10.1])[1]).toMatch(/exploded/); // the floor: 10^4 × 10^-3
  });
});
