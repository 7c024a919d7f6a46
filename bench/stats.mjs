// Small helpers shared by the leak benchmarks (bench/leak.mjs, bench/leak-signals.mjs).

export const MB = 1024 * 1024;
export const formatInt = (n) => n.toLocaleString('en-US');
export const formatMb = (bytes) => (bytes / MB).toFixed(1);
export const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));

/** Least-squares slope of y over x, for `{ x, y }` points (bytes per call from heap samples). */
export function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxy / sxx;
}

/** Prints rows (the first is the header, underlined) in columns: the first left-aligned, the last free. */
export function printColumns(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ');
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows.slice(1)) console.log(line(row));
}
