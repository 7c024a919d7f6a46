/**
 * The driver the race-schedule tests (`*.races.test.ts`) share: every call, abort, time step,
 * release and shutdown is one *step*, run at a moment fast-check's scheduler picks, and checked
 * against the test's model before and after it runs; plus the FIFO model of the lock-like
 * primitives.
 *
 * A step is a callback of a scheduled task. fast-check releases the next task only after 50
 * microtask turns without a new task, so when a step starts, every promise settled by an earlier
 * step has run its callbacks: the full check (outcomes included) runs then. Right after a step,
 * only what the primitive changed synchronously is checked.
 *
 * Errors in a step are recorded, not thrown (a throw in a scheduled callback would only be an
 * unhandled rejection): `done()` rethrows the first one once the scheduler is idle, so fast-check
 * sees the failure and shrinks it. After a failure, later steps do nothing.
 */

import type fc from 'fast-check';
import { expect } from 'vitest';
import type { Tracked } from './helpers.js';

/** `Symbol.dispose`, or the symbol waitsafe's Releasers use where the runtime lacks it. */
export const dispose: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

export class Race {
  /** The first error a step threw, if any. */
  failure: { error: unknown } | undefined = undefined;
  /** Labels of the steps run so far, for the report of a failure. */
  readonly steps: string[] = [];
  /** The full check: model against the primitive, outcomes included. Set by the test. */
  check: () => void = () => {};
  /** The check of what a step changes synchronously. Set by the test. */
  checkNow: () => void = () => {};

  constructor(readonly s: fc.Scheduler) {}

  /** Runs `fn` as a step at a moment the scheduler picks. */
  later(label: string, fn: () => void, checkAfter = true): void {
    void this.s.schedule(Promise.resolve(), label).then(() => this.step(label, fn, checkAfter));
  }

  /** Runs `fn` as a step after `hops` tasks in a row, each at a moment the scheduler picks: a longer hold. */
  after(hops: number, label: string, fn: () => void, checkAfter = true): void {
    if (hops <= 1) this.later(label, fn, checkAfter);
    else
      void this.s
        .schedule(Promise.resolve(), `${label} (in ${hops})`)
        .then(() => this.after(hops - 1, label, fn, checkAfter));
  }

  /** A promise that resolves after `hops` tasks in a row, each at a moment the scheduler picks. */
  work(hops: number, label: string): Promise<void> {
    const hop = this.s.schedule(Promise.resolve(), `${label} (in ${hops})`);
    return hops <= 1 ? hop : hop.then(() => this.work(hops - 1, label));
  }

  /**
   * Runs `fn` as a step now: the full check, `fn`, then (unless `checkAfter` is false: the step
   * ends something whose real effect follows a few microtasks later) the synchronous check.
   */
  step(label: string, fn: () => void, checkAfter = true): void {
    if (this.failure !== undefined) return;
    this.steps.push(label);
    try {
      this.check();
      fn();
      if (checkAfter) this.checkNow();
    } catch (error) {
      this.failure = { error };
    }
  }

  /**
   * Runs `prefix` in order, one step each, then `actions` as steps in an order the scheduler picks,
   * interleaved with whatever the steps schedule (the holders' releases), until nothing is left.
   * The prefix builds a contended start: holds and a queue that the scheduled steps then race on.
   */
  async run<A>(prefix: readonly A[], actions: readonly A[], perform: (action: A) => void): Promise<void> {
    for (const action of prefix) {
      this.step(`${JSON.stringify(action)} (first)`, () => perform(action));
      // As between scheduled steps: the promises it settled run their callbacks.
      for (let i = 0; i < 50; i++) await Promise.resolve();
    }
    for (const action of actions) this.later(JSON.stringify(action), () => perform(action));
    await this.settle();
  }

  /** Runs every scheduled step (and those they schedule), then rethrows the first failure. */
  async settle(): Promise<void> {
    await this.s.waitIdle();
    this.done();
  }

  /** Rethrows the first failure, with the steps that led to it. */
  done(): void {
    if (this.failure === undefined) return;
    const { error } = this.failure;
    if (error instanceof Error) error.message += `\n  steps: ${this.steps.join(' | ')}`;
    throw error;
  }
}

/**
 * The FIFO rule of Lock, Semaphore, ReaderWriterLock and a LockManager name, in a few lines:
 * a newcomer is granted at once only if it fits and nobody waits; after any change (a hold ends,
 * waits give up) the head is granted while it fits. Waits that give up together all leave before
 * anyone is granted.
 */
export class FifoModel<W> {
  readonly queue: W[] = [];

  constructor(
    private readonly fits: (w: W) => boolean,
    private readonly grantOne: (w: W) => void,
  ) {}

  /** A new wait: granted at once (true) or queued (false). `queue: false`: never queued. */
  arrive(w: W, queue = true): boolean {
    if (this.queue.length === 0 && this.fits(w)) {
      this.grantOne(w);
      return true;
    }
    if (queue) this.queue.push(w);
    return false;
  }

  /** Grants the head while it fits. */
  settle(): void {
    for (let head = this.queue[0]; head !== undefined && this.fits(head); head = this.queue[0]) {
      this.queue.shift();
      this.grantOne(head);
    }
  }

  /** The waits of `ws` still queued leave it, then the head is granted while it fits. */
  leave(ws: readonly W[]): W[] {
    const leaving = ws.filter((w) => this.queue.includes(w));
    for (const w of leaving) this.queue.splice(this.queue.indexOf(w), 1);
    this.settle();
    return leaving;
  }

  isWaiting(w: W): boolean {
    return this.queue.includes(w);
  }
}

/** Checks that `tracked` settled as `expected` says; `undefined`: still pending. */
export function expectOutcome(
  tracked: Tracked<unknown>,
  expected:
    | { readonly outcome: 'value'; readonly value: unknown }
    | { readonly outcome: 'reason'; readonly reason: unknown }
    | { readonly outcome: 'error'; readonly type: new (...args: never[]) => unknown; readonly name?: string }
    | undefined,
  label: string,
): void {
  expect(tracked.settlements, label).toBeLessThanOrEqual(1);
  if (expected === undefined) {
    expect(tracked.status, `${label} is pending`).toBe('pending');
  } else if (expected.outcome === 'value') {
    expect(tracked.status, `${label} fulfilled`).toBe('fulfilled');
    expect(tracked.value, label).toBe(expected.value);
  } else if (expected.outcome === 'reason') {
    expect(tracked.status, `${label} rejected`).toBe('rejected');
    expect(tracked.reason, `${label}: the exact reason`).toBe(expected.reason);
  } else {
    expect(tracked.status, `${label} rejected`).toBe('rejected');
    expect(tracked.reason, label).toBeInstanceOf(expected.type);
    if (expected.name !== undefined) expect((tracked.reason as Error).name, label).toBe(expected.name);
  }
}
