// Packing layouts: the micro-kernel reads packed A as [k][4] panels and packed B as [k][8]
// panels, zero-padded at the edges. A wrong layout shows up here before it shows up as a
// wrong product.
import { pack_a, pack_b } from '../gemm';

function fill(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), <f32>(i + 1));
}

function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

describe('pack_a', () => {
  it('lays 4-row panels out as [k][4], padding the last panel with zeros', () => {
    const a = heap.alloc(5 * 3 * 4); // A(5,3) row-major: A(i,k) = 3i + k + 1
    const dst = heap.alloc(8 * 3 * 4);
    fill(a, 15);
    pack_a(dst, a, 3, 1, 5, 3);
    for (let k = 0; k < 3; k++) {
      for (let r = 0; r < 4; r++) expect<f32>(at(dst, k * 4 + r)).toBe(<f32>(r * 3 + k + 1));
    }
    for (let k = 0; k < 3; k++) {
      expect<f32>(at(dst, 12 + k * 4)).toBe(<f32>(k + 13)) // A(4,k) = 12 + k + 1;
      for (let r = 1; r < 4; r++) expect<f32>(at(dst, 12 + k * 4 + r)).toBe(0);
    }
  });

  it('reads a transposed A through its strides', () => {
    const a = heap.alloc(3 * 4 * 4); // stored as X(3,4); A = Xᵀ is (4,3): A(i,k) = X(k,i)
    const dst = heap.alloc(4 * 3 * 4);
    fill(a, 12);
    pack_a(dst, a, 1, 4, 4, 3);
    for (let k = 0; k < 3; k++) {
      for (let r = 0; r < 4; r++) expect<f32>(at(dst, k * 4 + r)).toBe(<f32>(k * 4 + r + 1));
    }
  });
});

describe('pack_b', () => {
  it('lays 8-column panels out as [k][8], padding the last panel with zeros', () => {
    const b = heap.alloc(3 * 10 * 4); // B(3,10) row-major
    const dst = heap.alloc(16 * 3 * 4);
    fill(b, 30);
    pack_b(dst, b, 10, 1, 3, 10);
    for (let k = 0; k < 3; k++) {
      for (let c = 0; c < 8; c++) expect<f32>(at(dst, k * 8 + c)).toBe(<f32>(k * 10 + c + 1));
      expect<f32>(at(dst, 24 + k * 8)).toBe(<f32>(k * 10 + 9));
      expect<f32>(at(dst, 24 + k * 8 + 1)).toBe(<f32>(k * 10 + 10));
      for (let c = 2; c < 8; c++) expect<f32>(at(dst, 24 + k * 8 + c)).toBe(0);
    }
  });

  it('reads a transposed B through its strides', () => {
    const b = heap.alloc(8 * 2 * 4); // stored as W(8,2); B = Wᵀ is (2,8): B(k,c) = W(c,k)
    const dst = heap.alloc(8 * 2 * 4);
    fill(b, 16);
    pack_b(dst, b, 1, 2, 2, 8);
    for (let k = 0; k < 2; k++) {
      for (let c = 0; c < 8; c++) expect<f32>(at(dst, k * 8 + c)).toBe(<f32>(c * 2 + k + 1));
    }
  });
});
