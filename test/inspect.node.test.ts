/**
 * The inspector's WaiterMonitor where Node's APIs are: its default report on `process.stderr`,
 * and, in a child process of the runtime under test, whether its timer keeps the process alive
 * and what it reports. Node-only APIs (child processes, the file system, `process.stderr`);
 * `inspect.test.ts` has everything else.
 */

import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Waitsafe from '../src/index.js';
import type * as Inspect from '../src/inspect/index.js';
import { compileForNode20, root, runtimeArgs } from './compile.js';

let ws: typeof Waitsafe;
let inspect: typeof Inspect;
const stops: Array<() => void> = [];

// Fresh copies of waitsafe, its process-wide state and the inspector per test, as in inspect.test.ts.
beforeEach(async () => {
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('waitsafe.state.1')];
  vi.resetModules();
  ws = await import('../src/index.js');
  inspect = await import('../src/inspect/index.js');
});

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** `trackWaiters()`, stopped after the test. */
function track(): void {
  stops.push(inspect.trackWaiters());
}

/** Starts `n` waits that nobody will satisfy. */
function waitOn(event: Waitsafe.Event, n: number): void {
  for (let i = 0; i < n; i++) void event.wait();
}

describe('WaiterMonitor on Node', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it('the default report writes the diff table with process.stderr.write', () => {
    track();
    const event = new ws.Event({ name: 'leak' });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const monitor = new inspect.WaiterMonitor({ interval: 1000 });
    waitOn(event, 2);
    vi.advanceTimersByTime(1000);
    const diff = monitor.tick();
    const texts = write.mock.calls.map(([chunk]) => String(chunk)).filter((text) => text.includes('kind/name/site'));
    write.mockRestore();
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain(String(diff));
    expect(texts[0]).toContain('Event "leak"');
  });
});

// ---------------------------------------------------------------------------------------------
// In a child process: the monitor's timer and the default report for real

const CHILDREN: Record<string, string> = {
  'monitor-idle.mjs': `
import { Event } from './out/src/index.js';
import { trackWaiters, WaiterMonitor } from './out/src/inspect/index.js';
trackWaiters();
const leak = new Event({ name: 'leak' });
void leak.wait();
new WaiterMonitor({ interval: 60_000, report: () => console.log('report') }).start();
console.log('started');
process.on('exit', () => console.log(\`exit \${Math.round(performance.now())}\`));
`,
  'monitor-reports.mjs': `
import { Event } from './out/src/index.js';
import { trackWaiters, WaiterMonitor } from './out/src/inspect/index.js';
trackWaiters({ stacks: true });
const leak = new Event({ name: 'leak' });
void leak.wait();
new WaiterMonitor({ interval: 40 }).start();
setTimeout(() => console.log('done'), 200);
process.on('exit', () => console.log('exit'));
`,
};

let dir = '';

interface ChildResult {
  stdout: string[];
  stderr: string;
}

/**
 * Runs `node file` in the fixture directory with the runtime under test; a child still alive
 * after 10 s fails the test.
 */
function runNode(file: string): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      runtimeArgs([file]),
      { cwd: dir, encoding: 'utf8', timeout: 10_000 },
      (error: (Error & { killed?: boolean }) | null, stdout: string, stderr: string) => {
        if (error !== null) {
          reject(new Error(`${file} failed (killed: ${error.killed === true}): ${error.message}\n${stderr}`));
        } else {
          resolvePromise({ stdout: stdout.trim().split('\n'), stderr });
        }
      },
    );
  });
}

describe('WaiterMonitor in a child process', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waitsafe-inspect-'));
    cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    for (const [name, source] of Object.entries(CHILDREN)) writeFileSync(join(dir, name), source);
    compileForNode20(dir, [join(dir, 'src', 'index.ts'), join(dir, 'src', 'inspect', 'index.ts')]);
  }, 30_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("a started monitor's timer does not keep the process alive", async () => {
    const { stdout } = await runNode('monitor-idle.mjs');
    expect(stdout).toHaveLength(2);
    expect(stdout[0]).toBe('started');
    expect(stdout[1]).toMatch(/^exit \d+$/);
    expect(Number(stdout[1]?.split(' ')[1])).toBeLessThan(5_000);
  }, 15_000);

  it('a started monitor reports to stderr from its timer while something else keeps the process alive', async () => {
    const { stdout, stderr } = await runNode('monitor-reports.mjs');
    expect(stdout).toEqual(['done', 'exit']);
    const index = CHILDREN['monitor-reports.mjs']?.split('\n').findIndex((text) => text.includes('new Event'));
    const line = (index as number) + 1;
    expect(stderr.split('kind/name/site').length - 1).toBeGreaterThanOrEqual(1);
    expect(stderr).toContain(`Event "leak"  at monitor-reports.mjs:${line}`);
  }, 15_000);
});
