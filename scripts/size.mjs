// Size budget: bundles a tiny app per entry of scripts/size-budget.json against dist/esm (esbuild:
// bundle, minify, format esm), gzips it (node:zlib, default level 6) and fails if an entry is
// over its budget. Run `npm run size` (builds first). Flags: --json (machine-readable rows),
// --analyze (also list each bundle's bytes per input file, from esbuild's metafile).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { entries } = JSON.parse(readFileSync(join(root, 'scripts', 'size-budget.json'), 'utf8'));
const json = process.argv.includes('--json');
const analyze = process.argv.includes('--analyze');

// `waitsafe` and `waitsafe/<sub>` resolve to the ESM file the package's own "exports" names.
const self = {
  name: 'waitsafe-dist',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${pkg.name}(/|$)`) }, ({ path }) => {
      const target = pkg.exports[`.${path.slice(pkg.name.length)}`]?.import?.default;
      if (target === undefined) return { errors: [{ text: `${path} is not exported by package.json` }] };
      return { path: join(root, target), sideEffects: pkg.sideEffects !== false };
    });
  },
};

if (!existsSync(join(root, 'dist', 'esm'))) {
  console.error('size: no dist/esm; run `npm run build` first (or `npm run size`, which builds)');
  process.exit(1);
}

const rows = [];
for (const { name, code, budget } of entries) {
  const result = await build({
    stdin: { contents: code, resolveDir: root, sourcefile: `${name}.entry.js`, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    metafile: analyze,
    logLevel: 'error',
    plugins: [self],
  }).catch(() => process.exit(1)); // esbuild has printed the error
  const bytes = result.outputFiles[0].contents;
  const gzip = gzipSync(bytes).length;
  rows.push({ name, minified: bytes.length, gzip, budget, ok: gzip <= budget });
  if (analyze && !json) {
    const inputs = Object.values(result.metafile.outputs)[0].inputs;
    console.log(`${name}: bytes of minified output per input`);
    for (const [file, { bytesInOutput }] of Object.entries(inputs).sort(
      (a, b) => b[1].bytesInOutput - a[1].bytesInOutput,
    )) {
      if (bytesInOutput > 0) console.log(`  ${String(bytesInOutput).padStart(6)}  ${file.replace(`${root}/`, '')}`);
    }
  }
}

if (json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const width = Math.max(5, ...rows.map((r) => r.name.length));
  const n = (x) => x.toLocaleString('en-US').padStart(9);
  console.log(
    `${'entry'.padEnd(width)}  ${'minified'.padStart(9)}  ${'gzip'.padStart(9)}  ${'budget'.padStart(9)}  status`,
  );
  for (const r of rows) {
    const status = r.ok ? 'ok' : `OVER by ${(r.gzip - r.budget).toLocaleString('en-US')} B`;
    console.log(`${r.name.padEnd(width)}  ${n(r.minified)}  ${n(r.gzip)}  ${n(r.budget)}  ${status}`);
  }
}
if (rows.some((r) => !r.ok)) {
  if (!json) console.error('size: over budget (gzip bytes; budgets in scripts/size-budget.json)');
  process.exitCode = 1;
}
