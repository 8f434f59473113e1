// Fully connected layer. The weight is kept transposed, wt(in,out), so the forward pass is a
// plain row-major GEMM; the host converts from/to PyTorch's (out,in) at load and save.
import { gemm } from './gemm';

/** y(batch,out) = x(batch,in) · wt(in,out) + bias(out); bias 0 means none */
export function dense_forward(
  y: usize, x: usize, wt: usize, bias: usize,
  batch: i32, inp: i32, out: i32, scratch: usize,
): void {
  const rowBytes = <usize>out << 2;
  if (bias == 0) {
    gemm(y, x, wt, batch, out, inp, inp, 1, out, 1, out, 0, scratch);
    return;
  }
  for (let r = 0; r < batch; r++) memory.copy(y + <usize>r * rowBytes, bias, rowBytes);
  gemm(y, x, wt, batch, out, inp, inp, 1, out, 1, out, 1, scratch);
}

/**
 * dwt(in,out) += xᵀ·dy; dbias(out) += Σ_batch dy; dx(batch,in) += dy·wtᵀ (skipped when dx is 0,
 * as for the first layer, whose input needs no gradient).
 */
export function dense_backward(
  dx: usize, dwt: usize, dbias: usize,
  dy: usize, x: usize, wt: usize,
  batch: i32, inp: i32, out: i32, scratch: usize,
): void {
  if (batch <= 0) return;
  gemm(dwt, x, dy, inp, out, batch, 1, inp, out, 1, out, 1, scratch);
  if (dbias != 0) column_sum(dbias, dy, batch, out);
  if (dx != 0) gemm(dx, dy, wt, batch, inp, out, out, 1, 1, out, inp, 1, scratch);
}

/** s(cols) += Σ_rows m(rows,cols) */
export function column_sum(s: usize, m: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const row = m + <usize>r * rowBytes;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= cols; j += 4) {
        const o = <usize>j << 2;
        v128.store(s + o, f32x4.add(v128.load(s + o), v128.load(row + o)));
      }
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(s + o, load<f32>(s + o) + load<f32>(row + o));
    }
  }
}
