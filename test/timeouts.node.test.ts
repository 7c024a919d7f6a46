/**
 * sleep, timeout and Deadline in a child process of the runtime under test (Node, or Bun or
 * Deno running the Node project): `using` as TypeScript compiles it for Node 20, and whether a
 * Deadline's timer keeps the process alive. Node-only APIs (child processes, the file system);
 * `timeouts.test.ts` has everything else.
 */

import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileForNode20, root, runtimeArgs } from './compile.js';

/**
 * Preloaded into the `using` fixture: the test suite's probe (`probe.ts`, compiled with the
 * fixture), which counts listeners and pending timers the same way on every runtime.
 */
const PROBE_PRELOAD = `
import { probe } from './probe.js';

(globalThis as unknown as { probe: unknown }).probe = {
  listeners: (signal: AbortSignal) => probe.listenerCount(signal, 'abort'),
  timeouts: () => probe.pendingTimers(),
  nextMacrotask: () => probe.nextMacrotask(),
};
`;

/** `using` on a Deadline and on linkSignals, as TypeScript compiles it for Node 20. */
const USING_FIXTURE = `
import { Deadline, linkSignals } from './src/index.js';

interface Probe {
  listeners(signal: AbortSignal): number;
  timeouts(): number;
  nextMacrotask(): Promise<void>;
}
const probe = (globalThis as unknown as { probe: Probe }).probe;
const log: string[] = [];
const outer = new AbortController();
const base = probe.timeouts();
const state = (label: string, signal: AbortSignal) =>
  log.push(\`\${label}: timers +\${probe.timeouts() - base}, outer listeners \${probe.listeners(outer.signal)}, aborted \${signal.aborted}\`);

let kept: AbortSignal | undefined;
{
  using deadline = new Deadline(60_000, { signal: outer.signal });
  kept = deadline.signal;
  state('inside', kept);
}
await probe.nextMacrotask();
state('after block', kept);

try {
  using deadline = new Deadline(60_000, { signal: outer.signal });
  kept = deadline.signal;
  throw new Error('boom');
} catch (error) {
  log.push(\`caught: \${(error as Error).message}\`);
}
await probe.nextMacrotask();
state('after throw', kept);

{
  using deadline = new Deadline(5);
  await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve));
  log.push(\`fired inside: expired \${deadline.expired()}\`);
}

{
  using signal = linkSignals(outer.signal);
  kept = signal;
  state('link inside', kept);
}
await probe.nextMacrotask();
state('link after block', kept);

console.log(JSON.stringify(log));
`;

/** Children that exercise the process lifetime; each prints what happened, in order. */
const CHILDREN: Record<string, string> = {
  'keep-alive.mjs': `
import { Deadline } from './out/src/index.js';
const start = performance.now();
const deadline = new Deadline(200);
deadline.signal.addEventListener('abort', () => {
  console.log(\`fired \${deadline.expired()} \${Math.round(performance.now() - start)}\`);
});
process.on('exit', () => console.log('exit'));
`,
  'rescheduled-later.mjs': `
import { Deadline } from './out/src/index.js';
const start = performance.now();
const deadline = new Deadline(20);
deadline.reschedule(300);
deadline.signal.addEventListener('abort', () => {
  console.log(\`fired \${deadline.expired()} \${Math.round(performance.now() - start)}\`);
});
process.on('exit', () => console.log('exit'));
`,
  'disposed.mjs': `
import { Deadline } from './out/src/index.js';
const deadline = new Deadline(60_000);
deadline.signal.addEventListener('abort', () => console.log('fired'));
deadline[Symbol.dispose]();
console.log('disposed');
process.on('exit', () => console.log(\`exit aborted=\${deadline.signal.aborted}\`));
`,
  'outer-aborted.mjs': `
import { Deadline } from './out/src/index.js';
const outer = new AbortController();
const deadline = new Deadline(60_000, { signal: outer.signal });
outer.abort('stop');
console.log(\`aborted \${deadline.signal.reason} expired=\${deadline.expired()}\`);
process.on('exit', () => console.log('exit'));
`,
  'rescheduled-never.mjs': `
import { Deadline } from './out/src/index.js';
const deadline = new Deadline(60_000);
deadline.reschedule(Infinity);
const never = new Deadline(Infinity);
console.log(\`when \${deadline.when} \${never.when}\`);
process.on('exit', () => console.log('exit'));
`,
  'sleep-keep-alive.mjs': `
import { sleep } from './out/src/index.js';
const start = performance.now();
await sleep(200);
console.log(\`slept \${Math.round(performance.now() - start)}\`);
process.on('exit', () => console.log('exit'));
`,
  'timeout-done.mjs': `
import { timeout } from './out/src/index.js';
const result = await timeout(60_000, async () => 'done');
console.log(result);
process.on('exit', () => console.log('exit'));
`,
};

let dir = '';

/**
 * Runs `node args` in the fixture directory with the runtime under test; a child still alive
 * after 10 s fails the test.
 */
function runNode(args: readonly string[]): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      runtimeArgs(args),
      { cwd: dir, encoding: 'utf8', timeout: 10_000 },
      (error: (Error & { killed?: boolean }) | null, stdout: string, stderr: string) => {
        if (error !== null) {
          reject(new Error(`${args.join(' ')} failed (killed: ${error.killed === true}): ${error.message}\n${stderr}`));
        } else {
          resolvePromise(stdout.trim().split('\n'));
        }
      },
    );
  });
}

describe('in a child process', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waitsafe-timeouts-'));
    cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    cpSync(join(root, 'test', 'probe.ts'), join(dir, 'probe.ts'));
    writeFileSync(join(dir, 'probe-preload.ts'), PROBE_PRELOAD);
    writeFileSync(join(dir, 'using-fixture.ts'), USING_FIXTURE);
    for (const [name, source] of Object.entries(CHILDREN)) writeFileSync(join(dir, name), source);
    compileForNode20(dir, [join(dir, 'using-fixture.ts'), join(dir, 'probe-preload.ts')]);
  }, 30_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('using a Deadline or a linkSignals result releases its timer and listeners at block end, also on throw', async () => {
    const log = await runNode(['--import', './out/probe-preload.js', join('out', 'using-fixture.js')]);
    expect(JSON.parse(log.join('\n'))).toEqual([
      'inside: timers +1, outer listeners 1, aborted false',
      'after block: timers +0, outer listeners 0, aborted false',
      'caught: boom',
      'after throw: timers +0, outer listeners 0, aborted false',
      'fired inside: expired true',
      'link inside: timers +0, outer listeners 1, aborted false',
      'link after block: timers +0, outer listeners 0, aborted false',
    ]);
  }, 15_000);

  it("a Deadline's timer keeps the process alive until it fires", async () => {
    const lines = await runNode(['keep-alive.mjs']);
    expect(lines).toHaveLength(2);
    const [fired, exit] = lines;
    expect(fired).toMatch(/^fired true \d+$/);
    expect(Number(fired?.split(' ')[2])).toBeGreaterThanOrEqual(150);
    expect(exit).toBe('exit');
  }, 15_000);

  it('a Deadline rescheduled later keeps the process alive until the new deadline', async () => {
    const lines = await runNode(['rescheduled-later.mjs']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^fired true \d+$/);
    expect(Number(lines[0]?.split(' ')[2])).toBeGreaterThanOrEqual(200);
    expect(lines[1]).toBe('exit');
  }, 15_000);

  it('a Deadline disposed at once lets the process exit without firing', async () => {
    expect(await runNode(['disposed.mjs'])).toEqual(['disposed', 'exit aborted=false']);
  }, 15_000);

  it('a Deadline whose outer signal aborted no longer keeps the process alive', async () => {
    expect(await runNode(['outer-aborted.mjs'])).toEqual(['aborted stop expired=false', 'exit']);
  }, 15_000);

  it('a Deadline with no deadline (Infinity, or rescheduled to it) does not keep the process alive', async () => {
    expect(await runNode(['rescheduled-never.mjs'])).toEqual(['when Infinity Infinity', 'exit']);
  }, 15_000);

  it('a pending sleep keeps the process alive until it resolves', async () => {
    const lines = await runNode(['sleep-keep-alive.mjs']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^slept \d+$/);
    expect(Number(lines[0]?.split(' ')[1])).toBeGreaterThanOrEqual(150);
    expect(lines[1]).toBe('exit');
  }, 15_000);

  it('a timeout(60 000) whose fn settled lets the process exit at once', async () => {
    expect(await runNode(['timeout-done.mjs'])).toEqual(['done', 'exit']);
  }, 15_000);
});
