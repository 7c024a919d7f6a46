/**
 * The thread infrastructure of waitsafe/shared's tests (`threads.ts`, the worker script
 * `fixtures/shared-worker.ts`), on every runtime: real threads share a SharedArrayBuffer, answer
 * requests, report errors, and end (terminated, or by themselves where the runtime can tell).
 * Each way of starting a thread the runtime has (`availableApis`) is tested.
 */

import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  availableApis,
  canExitByItself,
  defaultApi,
  exitsObservably,
  runtime,
  startThread,
  type Thread,
  type ThreadApi,
  terminateAll,
} from './threads.js';

afterEach(terminateAll);

/** Resolves with the first `count` events of `thread` that `accept` takes. */
function events<T>(threads: readonly Thread[], count: number, accept: (data: unknown) => data is T): Promise<T[]> {
  return new Promise((resolve) => {
    const seen: T[] = [];
    const removals = threads.map((thread) =>
      thread.onMessage((data) => {
        if (!accept(data)) return;
        seen.push(data);
        if (seen.length === count) {
          for (const remove of removals) remove();
          resolve(seen);
        }
      }),
    );
  });
}

function isAtGate(data: unknown): data is { atGate: number } {
  return typeof data === 'object' && data !== null && 'atGate' in data;
}

describe('the runtime', () => {
  it('is the one the run was started for, with its ways of starting threads', () => {
    expect(runtime).toBe(inject('runtime') === 'chromium' ? 'browser' : inject('runtime'));
    const expected: Record<typeof runtime, { apis: ThreadApi[]; exit: boolean[] }> = {
      node: { apis: ['worker_threads'], exit: [true] },
      bun: { apis: ['worker_threads', 'web'], exit: [true, true] },
      deno: { apis: ['worker_threads', 'web'], exit: [true, false] },
      browser: { apis: ['web'], exit: [false] },
    };
    expect(availableApis).toEqual(expected[runtime].apis);
    expect(availableApis.map(exitsObservably)).toEqual(expected[runtime].exit);
    expect(defaultApi).toBe(availableApis[0]);
    expect(canExitByItself).toBe(exitsObservably(defaultApi));
  });

  it('is cross-origin isolated where it has the notion (a browser must): SharedArrayBuffer works', () => {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    if (runtime === 'browser') expect(isolated).toBe(true);
    else if (isolated !== undefined) expect(isolated).toBe(true);
    const cells = new Int32Array(new SharedArrayBuffer(8));
    expect(Atomics.add(cells, 1, 5)).toBe(0);
    expect(Atomics.load(cells, 1)).toBe(5);
  });
});

describe.each(availableApis)('threads started with %s', (api) => {
  it('are real threads with distinct ids that answer requests', async () => {
    const threads = await Promise.all([startThread({ api }), startThread({ api })]);
    for (const thread of threads) {
      expect(thread.api).toBe(api);
      expect(thread.canExitByItself).toBe(exitsObservably(api));
      expect(await thread.request('ping')).toBe('pong');
      expect(await thread.request('threadId')).toBe(thread.threadId);
      const info = await thread.request<Record<string, unknown>>('info');
      expect(info.channel).toBe(api);
      if (runtime === 'browser') expect(info.crossOriginIsolated).toBe(true);
    }
    const [a, b] = threads.map((thread) => thread.threadId);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a).not.toBe(b);
  });

  it('share a SharedArrayBuffer: 4 threads x 10,000 Atomics.add on one Int32 add up exactly', async () => {
    const threads = await Promise.all([1, 2, 3, 4].map(() => startThread({ api })));
    const buffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    const cells = new Int32Array(buffer);
    const COUNTER = 0;
    const GATE = 1;
    // All four wait at the gate (Atomics.wait), then run together.
    const atGate = events(threads, 4, isAtGate);
    const finals = threads.map((thread) =>
      thread.request<number>('atomicsAdd', { buffer, index: COUNTER, n: 10_000, gate: GATE }),
    );
    expect((await atGate).map((e) => e.atGate).sort()).toEqual(threads.map((t) => t.threadId).sort());
    Atomics.store(cells, GATE, 1);
    Atomics.notify(cells, GATE);
    const values = await Promise.all(finals);
    expect(Atomics.load(cells, COUNTER)).toBe(40_000);
    // Each saw at least its own adds, and the last to finish saw everyone's.
    for (const value of values) expect(value).toBeGreaterThanOrEqual(10_000);
    expect(Math.max(...values)).toBe(40_000);
  });

  it("reject a failed request with the worker's error name and message, and keep answering", async () => {
    const thread = await startThread({ api });
    await expect(thread.request('fail', { name: 'LockError', message: 'not yours' })).rejects.toMatchObject({
      name: 'LockError',
      message: 'not yours',
    });
    await expect(thread.request('no such op')).rejects.toMatchObject({
      name: 'RangeError',
      message: 'unknown op: no such op',
    });
    expect(await thread.request('ping')).toBe('pong');
    expect(thread.errors).toEqual([]);
  });

  it('end on terminate(), which resolves once exited has', async () => {
    const thread = await startThread({ api });
    let exited = false;
    void thread.exited.then(() => {
      exited = true;
    });
    await thread.terminate();
    expect(exited).toBe(true);
    await expect(thread.request('ping')).rejects.toThrow('has exited');
  });

  if (exitsObservably(api)) {
    it('end by themselves when told to exit, after answering', async () => {
      const thread = await startThread({ api });
      expect(await thread.request('exit')).toBe(true);
      await thread.exited;
      expect(thread.exitCode).toBe(0);
    });

    it('end by themselves once released with nothing left to do (the channel keeps none alive)', async () => {
      const thread = await startThread({ api });
      expect(await thread.request('release')).toBe(true);
      await thread.exited;
      expect(thread.exitCode).toBe(0);
      expect(thread.errors).toEqual([]);
    });
  } else {
    it('answer exit before they close themselves, and are seen to end only by terminate()', async () => {
      // Chromium's and Deno's Web Workers fire no event when they end: `exited` waits for terminate().
      const thread = await startThread({ api });
      expect(await thread.request('exit')).toBe(true);
      expect(thread.exitCode).toBeUndefined();
      await thread.terminate();
      await thread.exited;
      expect(thread.errors).toEqual([]);
    });
  }
});
