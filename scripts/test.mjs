#!/usr/bin/env node
/**
 * `npm test`: the typecheck, the linter, then the test suite on every runtime waitsafe supports
 * (docs/runtimes.md): Node, headless Chromium, Bun and Deno. Prints one line per runtime, counted
 * from vitest's JSON report of that run, then the total alone on the last line:
 *
 *   node: 2330 passed, 0 failed
 *   chromium: ...
 *   tests: 9282 passed, 0 failed
 *
 * Without a `chromium` on PATH the Chromium run is skipped, said so with the command that installs
 * it, and the exit code stays 0, unless CI=true or WAITSAFE_REQUIRE_ALL_RUNTIMES=1 require every
 * run. Likewise without a `redis-server` on PATH: the Redis test files (`test/redis*.node.test.ts`,
 * which start their own servers) are left out of every run (excluded, not skipped: a skipped test
 * fails a run), and the summary says so. Any failure anywhere exits non-zero. No dependencies:
 * Node's standard library only.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (...parts) => join(root, 'node_modules', ...parts);
const vitest = bin('vitest', 'vitest.mjs');
const reports = join(root, '.vitest');
const INSTALL_CHROMIUM = 'apt-get update && apt-get install -y chromium';
const INSTALL_REDIS = 'apt-get update && apt-get install -y redis-server';
/** The tests that need a `redis-server` (Node-only: they start servers and child processes). */
const REDIS_TESTS = 'test/**/redis*.node.test.ts';
/** A run that has not finished after this long is stopped and fails. */
const RUN_TIMEOUT_MS = 10 * 60_000;

const requireAll = process.env.CI === 'true' || process.env.WAITSAFE_REQUIRE_ALL_RUNTIMES === '1';

/** `command -v name`: the first executable of that name on PATH. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Runs `command args` with the output shown; resolves with its exit code (or a signal name). */
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    const timer = setTimeout(() => {
      console.error(`\n${command} ${args.join(' ')}: still running after ${RUN_TIMEOUT_MS / 60_000} min, stopped`);
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      console.error(`${command}: ${error.message}`);
      resolve('not started');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

/** The test runs: which runtime runs vitest, on which project. */
const RUNS = [
  { name: 'node', command: process.execPath, args: [vitest], project: 'node' },
  { name: 'chromium', command: process.execPath, args: [vitest], project: 'chromium', needs: 'chromium' },
  { name: 'bun', command: bin('@oven', 'bun-linux-x64', 'bin', 'bun'), args: ['--bun', vitest], project: 'node' },
  {
    name: 'deno',
    command: bin('@deno', 'linux-x64-glibc', 'deno'),
    args: ['run', '--allow-all', '--node-modules-dir=manual', vitest],
    project: 'node',
    env: { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
  },
];

async function main() {
  for (const [label, args] of [
    ['typecheck', [bin('typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit']],
    [
      'typecheck (runtime-neutral tests, no Node types)',
      [bin('typescript', 'bin', 'tsc'), '-p', 'test/tsconfig.json', '--noEmit'],
    ],
    ['lint', [bin('@biomejs', 'biome', 'bin', 'biome'), 'check', '.']],
  ]) {
    console.log(`== ${label}`);
    const code = await run(process.execPath, args);
    if (code !== 0) {
      console.error(`${label} failed`);
      return 1;
    }
  }

  // Without redis-server the Redis tests cannot start their servers: leave them out of every run.
  const withoutRedis = onPath('redis-server') === undefined;
  const exclude = withoutRedis ? ['--exclude', REDIS_TESTS] : [];
  if (withoutRedis) console.log(`\n== no redis-server on PATH: the Redis tests (${REDIS_TESTS}) are left out`);

  mkdirSync(reports, { recursive: true });
  const lines = [];
  const problems = [];
  const skipped = [];
  let passed = 0;
  let failed = 0;
  for (const r of RUNS) {
    if (r.needs !== undefined && onPath(r.needs) === undefined) {
      skipped.push(r.name);
      continue;
    }
    console.log(`\n== ${r.name}: vitest --project ${r.project}`);
    const report = join(reports, `${r.name}.json`);
    rmSync(report, { force: true });
    const code = await run(
      r.command,
      [
        ...r.args,
        'run',
        '--project',
        r.project,
        ...exclude,
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
      ],
      r.env,
    );
    let result;
    try {
      result = JSON.parse(readFileSync(report, 'utf8'));
    } catch {
      lines.push(`${r.name}: no report (vitest exited with ${code})`);
      problems.push(`${r.name}: vitest wrote no JSON report`);
      continue;
    }
    passed += result.numPassedTests;
    failed += result.numFailedTests;
    lines.push(`${r.name}: ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
    const unloaded = result.testResults.filter(
      (file) => file.status === 'failed' && file.assertionResults.length === 0,
    );
    const notRun = result.numPendingTests + result.numTodoTests;
    if (result.numTotalTests === 0) problems.push(`${r.name}: no tests ran`);
    if (unloaded.length > 0) problems.push(`${r.name}: ${unloaded.length} test file(s) failed to load`);
    if (notRun > 0) problems.push(`${r.name}: ${notRun} test(s) skipped or todo; every test must run`);
    if (code !== 0 && result.numFailedTests === 0) problems.push(`${r.name}: vitest exited with ${code}`);
    if (result.numFailedTests > 0) problems.push(`${r.name}: ${result.numFailedTests} test(s) failed`);
  }

  console.log('\n== summary');
  for (const line of lines) console.log(line);
  for (const problem of problems) console.log(problem);
  if (skipped.length > 0) {
    console.log(`skipped: ${skipped.join(', ')} (no \`chromium\` on PATH). Install it with: ${INSTALL_CHROMIUM}`);
  }
  if (withoutRedis) console.log(`skipped: redis tests (no redis-server on PATH; install: ${INSTALL_REDIS})`);
  const incomplete = skipped.length > 0 || withoutRedis;
  if (incomplete && requireAll) {
    console.log(
      'every run and the Redis tests are required here (CI=true or WAITSAFE_REQUIRE_ALL_RUNTIMES=1): skipping fails',
    );
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
  return problems.length > 0 || (incomplete && requireAll) ? 1 : 0;
}

process.exitCode = await main();
