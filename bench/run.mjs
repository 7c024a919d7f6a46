// Runs the benchmark scenarios, each in its own `node --expose-gc` child process, one after the
// other, streaming their output. `npm run bench` builds dist/ first, then runs this.
//
//   npm run bench            every scenario below
//   npm run bench -- event   only the scenarios whose file name contains "event"
//
// BENCH_ROUNDS=3 npm run bench -- event   fewer rounds, for a quick check (the method needs >= 9).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Scenario files, relative to bench/. bench/leak.mjs and bench/leak-signals.mjs are separate: `npm run leak`.
 * redis.mjs starts its own redis-server (skipped, with a note, where /usr/bin/redis-server is missing).
 * shared.mjs runs waitsafe/shared across worker_threads (bench/shared-worker.mjs), about a minute.
 */
const SCENARIOS = [
  'event.mjs',
  'inspect.mjs',
  'lock.mjs',
  'mixed.mjs',
  'more.mjs',
  'orphans.mjs',
  'queue.mjs',
  'redis.mjs',
  'shared.mjs',
];

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const selected = filters.length === 0 ? SCENARIOS : SCENARIOS.filter((f) => filters.some((w) => f.includes(w)));
if (selected.length === 0) {
  console.error(`No scenario matches ${filters.join(', ')}. Scenarios: ${SCENARIOS.join(', ')}`);
  process.exit(2);
}

// The command as typed, for the scenarios to print (BENCH_COMMAND).
const args = filters.length === 0 ? '' : ` ${filters.join(' ')}`;
const typed =
  process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args && ` --${args}`}` : `node bench/run.mjs${args}`;
const env = {
  ...process.env,
  BENCH_COMMAND: `${process.env.BENCH_ROUNDS ? `BENCH_ROUNDS=${process.env.BENCH_ROUNDS} ` : ''}${typed}`,
};

function run(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(here, file)], { stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
}

const started = performance.now();
let failed = 0;
for (const file of selected) {
  const t0 = performance.now();
  console.log(`\n## bench/${file}`);
  const status = await run(file);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (status === 0) console.log(`\nbench/${file}: done in ${seconds} s`);
  else {
    failed++;
    console.error(`\nbench/${file}: FAILED (${status}) after ${seconds} s`);
  }
}
console.log(`\n${selected.length} scenario(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failed > 0) process.exitCode = 1;
