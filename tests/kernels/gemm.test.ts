// gemm (packed, blocked, with batch-1 fast paths) against the float64 reference and against the
// same build's plain triple-loop gemm_reference, in every build.
import { describe, expect, it } from 'vitest';
import { BUILDS, type Build, fresh } from '../helpers/wasm';
import { GUARD, Rng, expectClose, expectGuardIntact, gemmRef, gemmScale, guarded, type GemmProblem } from '../helpers/reference';

// The kernel's blocking: 4×8 register tile, MC = 64 rows, KC = 256 depth, NC = 512 columns.
// Rounding error is relative to Σ_p |A(i,p)·B(p,j)| (+ |C0| when accumulating).
const RTOL = 1e-5;
const ATOL = 1e-6;

/**
 * How A(m,k) and B(k,n) sit in memory. The kernel only sees strides:
 *   NN  A row-major (m,k), B row-major (k,n)          — x·W
 *   NT  B stored transposed as (n,k): b_rs = 1         — x·Wᵀ
 *   TN  A stored transposed as (k,m+1): a_rs = 1       — xᵀ·dy (m = 1 reads x with stride 2)
 *   TT  both transposed, with padded leading dims (m = 1 then reads x with stride ≠ 1)
 *   GG  no unit stride anywhere (m = 1 must fall back to the packed path)
 */
type Form = 'NN' | 'NT' | 'TN' | 'TT' | 'GG';
const FORMS: Form[] = ['NN', 'NT', 'TN', 'TT', 'GG'];

function strides(form: Form, m: number, n: number, k: number) {
  switch (form) {
    case 'NN': return { aRs: k, aCs: 1, bRs: n, bCs: 1 };
    case 'NT': return { aRs: k, aCs: 1, bRs: 1, bCs: k };
    case 'TN': return { aRs: 1, aCs: m + 1, bRs: n, bCs: 1 };
    case 'TT': return { aRs: 1, aCs: m + 2, bRs: 1, bCs: k + 1 };
    case 'GG': return { aRs: 2 * k + 1, aCs: 2, bRs: 3 * n + 1, bCs: 3 };
  }
}

/** floats spanned by a strided (rows × cols) operand */
const extent = (rows: number, cols: number, rs: number, cs: number) =>
  rows === 0 || cols === 0 ? 0 : (rows - 1) * rs + (cols - 1) * cs + 1;

interface Case { m: number; n: number; k: number; forms?: Form[] }

// Representative shapes rather than the full cross product: each sweep holds the other two sizes
// at small odd values, then a few shapes sit exactly on and one past every block boundary.
const CASES: Case[] = [
  // empty: nothing written, except k = 0 without accumulate, which zeroes C
  { m: 0, n: 9, k: 3 }, { m: 5, n: 0, k: 3 }, { m: 5, n: 9, k: 0 }, { m: 1, n: 9, k: 0 }, { m: 0, n: 0, k: 0 },
  // m: the 4-row tile (3, 4, 5), 3× tile (12, 13) and the MC = 64 block (64, 65, 67)
  ...[3, 4, 5, 12, 13, 64, 65, 67].map((m) => ({ m, n: 9, k: 3 })),
  // n: the 8-column tile (7, 8, 9), 3× tile (24, 25) and the NC = 512 block (513)
  ...[1, 7, 8, 9, 24, 25, 513].map((n) => ({ m: 5, n, k: 3 })),
  // k: the KC = 256 block
  ...[1, 3, 255, 256, 257, 300].map((k) => ({ m: 5, n: 9, k })),
  // whole tiles and blocks, and one past
  { m: 4, n: 8, k: 1 }, { m: 12, n: 24, k: 256 }, { m: 13, n: 25, k: 257 }, { m: 64, n: 24, k: 255 }, { m: 65, n: 8, k: 256 },
  // MC, KC and NC blocking all in one call
  { m: 67, n: 513, k: 300, forms: ['NN', 'NT', 'TN'] },
  // batch 1: b_cs = 1 takes gemv_rows (16- and 4-wide SIMD then scalar), b_rs = 1 gemv_cols
  // (8-wide dot products then scalar tail); TN and TT read x with a stride, GG takes the packed path
  ...[[1, 1], [7, 3], [8, 256], [9, 257], [16, 5], [17, 300], [20, 7], [24, 255], [25, 300], [513, 300]].map(
    ([n, k]) => ({ m: 1, n, k }),
  ),
];

/** Run gemm and gemm_reference on one problem and check both against the float64 reference. */
function checkGemm(
  build: Build, rng: Rng, m: number, n: number, k: number, form: Form, accumulate: boolean, ldc: number,
  shift = 0, // floats to offset A, B and C by, so SIMD loads and stores are not 16-byte aligned
): void {
  const kx = fresh(build);
  const s = strides(form, m, n, k);
  const a = rng.array(extent(m, k, s.aRs, s.aCs));
  const b = rng.array(extent(k, n, s.bRs, s.bCs));
  // C has m rows of ldc floats; the padding columns and the guard past the end must survive
  const c0 = rng.array(m * ldc, -2, 2);
  const problem: GemmProblem = { m, n, k, a, b, ...s, ldc, accumulate, c0 };
  const expected = gemmRef(problem);
  const scale = gemmScale(problem);
  const label = `${build} ${form} m=${m} n=${n} k=${k} ldc=${ldc} acc=${+accumulate}${shift ? ` shift=${shift}` : ''}`;

  const place = (data: ArrayLike<number>) => {
    const buf = new Float64Array(shift + data.length);
    buf.set(data, shift);
    return kx.alloc(buf.length, buf) + 4 * shift;
  };
  const ap = place(a);
  const bp = place(b);
  const cp = place(guarded(c0));
  const rp = place(guarded(c0));
  const args = [m, n, k, s.aRs, s.aCs, s.bRs, s.bCs, ldc, accumulate ? 1 : 0] as const;
  kx.exports.gemm(cp, ap, bp, ...args, kx.scratch);
  kx.exports.gemm_reference(rp, ap, bp, ...args);

  const c = kx.read(cp, c0.length + GUARD);
  const r = kx.read(rp, c0.length + GUARD);
  expectClose(c.subarray(0, c0.length), expected, { rtol: RTOL, atol: ATOL, scale, label: `gemm ${label}` });
  expectClose(r.subarray(0, c0.length), expected, { rtol: RTOL, atol: ATOL, scale, label: `gemm_reference ${label}` });
  expectClose(c.subarray(0, c0.length), r.subarray(0, c0.length), { rtol: RTOL, atol: ATOL, scale, label: `gemm vs gemm_reference ${label}` });
  expectGuardIntact(c, c0.length, `gemm C ${label}`);
  // the operands are read-only
  expectClose(kx.read(ap, a.length), a, { rtol: 0, atol: 0, label: `A modified ${label}` });
  expectClose(kx.read(bp, b.length), b, { rtol: 0, atol: 0, label: `B modified ${label}` });
}

describe.each(BUILDS)('gemm (%s build)', (build) => {
  it.each(CASES)('m=$m n=$n k=$k', ({ m, n, k, forms = FORMS }) => {
    const rng = new Rng(1000 * m + 10 * n + k);
    for (const form of forms) {
      for (const accumulate of [false, true]) {
        for (const ldc of [n, n + 3]) checkGemm(build, rng, m, n, k, form, accumulate, ldc);
      }
    }
  });

  it.each([[1, 25, 257], [1, 9, 7], [5, 9, 3], [13, 25, 257], [67, 17, 9]])('unaligned operands m=%i n=%i k=%i', (m, n, k) => {
    const rng = new Rng(m * n * k + 5);
    for (const form of FORMS) {
      for (const shift of [1, 2, 3]) checkGemm(build, rng, m, n, k, form, true, n + 1, shift);
    }
  });

  it('k = 0 zeroes C without accumulate and leaves it alone with accumulate', () => {
    const kx = fresh(build);
    const c0 = new Rng(7).array(3 * 6, 1, 2); // 3 rows, n = 4, ldc = 6
    const cp = kx.alloc(c0.length, c0);
    kx.exports.gemm(cp, cp, cp, 3, 4, 0, 1, 1, 1, 1, 6, 1, kx.scratch);
    expect(kx.read(cp, c0.length)).toEqual(Float32Array.from(c0));
    kx.exports.gemm(cp, cp, cp, 3, 4, 0, 1, 1, 1, 1, 6, 0, kx.scratch);
    const c = kx.read(cp, c0.length);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 6; j++) expect(c[i * 6 + j]).toBe(j < 4 ? 0 : Math.fround(c0[i * 6 + j]));
    }
  });

  it('large-magnitude and mixed-sign operands stay within the Σ|a||b| bound', () => {
    const rng = new Rng(99);
    for (const [m, n, k] of [[1, 25, 257], [13, 25, 257], [65, 9, 300]]) {
      const kx = fresh(build);
      const s = strides('NN', m, n, k);
      const a = Float64Array.from(rng.array(m * k), (v, i) => Math.fround(i % 5 === 0 ? v * 1e4 : i % 7 === 0 ? 0 : v));
      const b = Float64Array.from(rng.array(k * n), (v, i) => Math.fround(i % 3 === 0 ? -v * 1e3 : v));
      const c0 = new Float64Array(m * n);
      const problem: GemmProblem = { m, n, k, a, b, ...s, ldc: n, accumulate: false, c0 };
      const cp = kx.alloc(c0.length);
      kx.exports.gemm(cp, kx.alloc(a.length, a), kx.alloc(b.length, b), m, n, k, s.aRs, s.aCs, s.bRs, s.bCs, n, 0, kx.scratch);
      expectClose(kx.read(cp, c0.length), gemmRef(problem), { rtol: RTOL, atol: ATOL, scale: gemmScale(problem), label: `gemm ${build} ${m}×${n}×${k}` });
    }
  });
});
