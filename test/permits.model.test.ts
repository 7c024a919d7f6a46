/**
 * Model test for Lock, Semaphore and BoundedSemaphore: random sequences of acquires (with and
 * without signals and timeouts), tryAcquires, releases (by Releaser, twice, or asyncio-style
 * `release()`), aborts and time steps, checked against a few lines of model after every step:
 * grants in FIFO order, never two holders of a Lock, `value` and `waiterCount` always the
 * model's, and nothing left at the end (no waiter, no fake timer, no listener).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoundedSemaphore, Lock, type Releaser, Semaphore } from '../src/index.js';
import { abortListeners, expectTimeoutError, flushMicrotasks, type Tracked, track } from './helpers.js';

type Kind = 'Lock' | 'Semaphore' | 'BoundedSemaphore';
type SignalChoice = 'none' | 'own' | 0 | 1;

/** One hold of a permit: who got it and the Releaser it got. */
interface Hold {
  readonly label: string;
  release: Releaser | undefined;
  /** Released through its Releaser, or given back with `release()`. */
  released: boolean;
  /** Given back with `release()`: its Releaser must never be called (that would be a second release). */
  returned: boolean;
}

interface ModelWait {
  readonly label: string;
  readonly tracked: Tracked<Releaser>;
  readonly controller: number | undefined;
  readonly deadline: number;
  readonly timeout: number | undefined;
  expected:
    | { outcome: 'granted'; hold: Hold }
    | { outcome: 'reason'; reason: unknown }
    | { outcome: 'timeout' }
    | undefined;
}

interface World {
  readonly kind: Kind;
  readonly initial: number;
  readonly primitive: Lock | Semaphore;
  readonly controllers: AbortController[];
  readonly aborted: boolean[];
  readonly waits: ModelWait[];
  /** Model: the queue of pending waits, oldest first. */
  readonly queue: ModelWait[];
  readonly holds: Hold[];
  /** Model: permits free now. */
  value: number;
  now: number;
  /** Labels in the order the real acquires were fulfilled. */
  readonly fulfilled: string[];
  /** Labels in the order the model granted acquires. */
  readonly granted: string[];
}

function createWorld(kind: Kind, initial: number): World {
  const primitive =
    kind === 'Lock'
      ? new Lock({ name: 'model' })
      : kind === 'Semaphore'
        ? new Semaphore(initial, { name: 'model' })
        : new BoundedSemaphore(initial, { name: 'model' });
  const controllers = [new AbortController(), new AbortController()];
  return {
    kind,
    initial: kind === 'Lock' ? 1 : initial,
    primitive,
    controllers,
    aborted: controllers.map(() => false),
    waits: [],
    queue: [],
    holds: [],
    value: kind === 'Lock' ? 1 : initial,
    now: 0,
    fulfilled: [],
    granted: [],
  };
}

function liveHolds(world: World): Hold[] {
  return world.holds.filter((h) => !h.released);
}

/** Model of a release that gives a permit back: to the first waiter, else to `value`. */
function modelRelease(world: World): void {
  const head = world.queue.shift();
  if (head === undefined) {
    world.value++;
    return;
  }
  const hold: Hold = { label: head.label, release: undefined, released: false, returned: false };
  world.holds.push(hold);
  world.granted.push(head.label);
  head.expected = { outcome: 'granted', hold };
}

/** The synchronous invariants: they hold right after every call, before any microtask. */
function verifyNow(world: World): void {
  const { primitive } = world;
  expect(primitive.waiterCount).toBe(world.queue.length);
  expect(primitive.isLocked()).toBe(world.value === 0);
  if (primitive instanceof Semaphore) expect(primitive.value).toBe(world.value);
  // Hand-off: a free permit and a waiter never coexist.
  if (world.queue.length > 0) expect(world.value).toBe(0);
  if (world.kind === 'Lock') {
    expect(liveHolds(world).length).toBeLessThanOrEqual(1);
    expect(primitive.isLocked()).toBe(liveHolds(world).length === 1);
  }
  if (world.kind !== 'Semaphore') expect(liveHolds(world).length + world.value).toBe(world.initial);
}

async function verify(world: World): Promise<void> {
  verifyNow(world);
  await flushMicrotasks();
  for (const wait of world.waits) {
    const { tracked, expected } = wait;
    if (expected === undefined) {
      expect(tracked.status, wait.label).toBe('pending');
      continue;
    }
    expect(tracked.settlements, wait.label).toBe(1);
    if (expected.outcome === 'granted') {
      expect(tracked.status, wait.label).toBe('fulfilled');
      expected.hold.release ??= tracked.value;
    } else if (expected.outcome === 'reason') {
      expect(tracked.status, wait.label).toBe('rejected');
      expect(tracked.reason, wait.label).toBe(expected.reason);
    } else {
      expect(tracked.status, wait.label).toBe('rejected');
      expectTimeoutError(tracked.reason);
      expect(tracked.reason.message).toContain(`${world.kind} "model"`);
    }
  }
  // Grants happen in FIFO order: the real fulfilments follow the model's grants exactly.
  expect(world.fulfilled).toEqual(world.granted);
}

type Command = fc.AsyncCommand<World, World>;

class AcquireCommand implements Command {
  constructor(
    readonly signal: SignalChoice,
    readonly timeout: number | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    let controller: number | undefined;
    if (this.signal === 'own') {
      controller = world.controllers.length;
      world.controllers.push(new AbortController());
      world.aborted.push(false);
    } else if (this.signal !== 'none') {
      controller = this.signal;
    }
    const options: { signal?: AbortSignal; timeout?: number } = {};
    if (controller !== undefined) options.signal = (world.controllers[controller] as AbortController).signal;
    if (this.timeout !== undefined) options.timeout = this.timeout;
    const label = `acquire #${world.waits.length} ${this.toString()} at ${world.now}`;
    const promise = world.primitive.acquire(options);
    promise.then(
      () => world.fulfilled.push(label),
      () => {},
    );
    const wait: ModelWait = {
      label,
      tracked: track(promise),
      controller,
      deadline: world.now + (this.timeout ?? Number.POSITIVE_INFINITY),
      timeout: this.timeout,
      expected: undefined,
    };
    world.waits.push(wait);
    if (controller !== undefined && world.aborted[controller]) {
      wait.expected = { outcome: 'reason', reason: world.controllers[controller]?.signal.reason };
    } else if (world.value > 0) {
      world.value--;
      const hold: Hold = { label, release: undefined, released: false, returned: false };
      world.holds.push(hold);
      world.granted.push(label);
      wait.expected = { outcome: 'granted', hold };
    } else if (this.timeout === 0) {
      wait.expected = { outcome: 'timeout' };
    } else {
      world.queue.push(wait);
    }
    await verify(world);
  }
  toString(): string {
    return `acquire(signal: ${this.signal}, timeout: ${this.timeout})`;
  }
}

class TryAcquireCommand implements Command {
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const release = world.primitive.tryAcquire();
    if (world.value > 0) {
      expect(release).toBeTypeOf('function');
      world.value--;
      world.holds.push({ label: `tryAcquire at ${world.now}`, release, released: false, returned: false });
    } else {
      // Never barges ahead of a queued waiter.
      expect(release).toBeUndefined();
    }
    await verify(world);
  }
  toString(): string {
    return 'tryAcquire()';
  }
}

class ReleaseCommand implements Command {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const holds = liveHolds(world).filter((h) => h.release !== undefined);
    const hold = holds[this.pick % Math.max(holds.length, 1)];
    if (hold === undefined) return;
    hold.released = true;
    (hold.release as Releaser)();
    modelRelease(world);
    // The next waiter holds it in the same synchronous step.
    verifyNow(world);
    await verify(world);
  }
  toString(): string {
    return `release(hold ${this.pick})`;
  }
}

class ReleaseAgainCommand implements Command {
  constructor(
    readonly pick: number,
    readonly dispose: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const done = world.holds.filter((h) => h.released && !h.returned && h.release !== undefined);
    const hold = done[this.pick % Math.max(done.length, 1)];
    if (hold === undefined) return;
    // A Releaser acts on its first call only.
    if (this.dispose) (hold.release as Releaser)[Symbol.dispose]();
    else (hold.release as Releaser)();
    await verify(world);
  }
  toString(): string {
    return `releaseAgain(${this.pick}, ${this.dispose ? 'dispose' : 'call'})`;
  }
}

class PlainReleaseCommand implements Command {
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const { primitive } = world;
    // asyncio style: gives back the oldest hold, whose Releaser is then never used.
    const oldest = liveHolds(world)[0];
    if (oldest !== undefined) {
      oldest.released = true;
      oldest.returned = true;
      primitive.release();
      modelRelease(world);
    } else if (world.kind === 'Semaphore') {
      // A plain Semaphore accepts releases beyond its initial value.
      primitive.release();
      modelRelease(world);
    } else {
      const before = String(primitive);
      let error: unknown;
      try {
        primitive.release();
      } catch (e) {
        error = e;
      }
      if (world.kind === 'Lock') {
        expect(error).toBeInstanceOf(DOMException);
        expect((error as DOMException).name).toBe('InvalidStateError');
      } else {
        expect(error).toBeInstanceOf(RangeError);
      }
      expect(String(primitive)).toBe(before);
    }
    verifyNow(world);
    await verify(world);
  }
  toString(): string {
    return 'release()';
  }
}

class AbortCommand implements Command {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const index = this.pick % world.controllers.length;
    const controller = world.controllers[index] as AbortController;
    controller.abort({ abort: index });
    if (!world.aborted[index]) {
      world.aborted[index] = true;
      for (const wait of [...world.queue]) {
        if (wait.controller !== index) continue;
        world.queue.splice(world.queue.indexOf(wait), 1);
        wait.expected = { outcome: 'reason', reason: controller.signal.reason };
      }
    }
    // Gone by the time abort() returns.
    verifyNow(world);
    expect(abortListeners(controller.signal)).toBe(0);
    await verify(world);
  }
  toString(): string {
    return `abort(${this.pick})`;
  }
}

class AdvanceCommand implements Command {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const end = world.now + this.ms;
    const checkpoints = new Set<number>([end]);
    for (const wait of world.queue) {
      if (wait.deadline <= end) checkpoints.add(wait.deadline - 1).add(wait.deadline);
    }
    for (const time of [...checkpoints].sort((a, b) => a - b)) {
      if (time <= world.now) continue;
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      for (const wait of [...world.queue]) {
        if (wait.deadline > world.now) continue;
        world.queue.splice(world.queue.indexOf(wait), 1);
        wait.expected = { outcome: 'timeout' };
      }
      await verify(world);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

const signalArb = fc.constantFrom<SignalChoice>('none', 'own', 0, 1);
const timeoutArb = fc.constantFrom<number | undefined>(undefined, 0, 1, 5, 20, Number.POSITIVE_INFINITY);
const acquireArb = fc.tuple(signalArb, timeoutArb).map(([s, t]) => new AcquireCommand(s, t));
const releaseArb = fc.nat(10).map((pick) => new ReleaseCommand(pick));

const commandsArb = fc.commands(
  [
    acquireArb,
    acquireArb,
    acquireArb,
    releaseArb,
    releaseArb,
    fc.constant(new TryAcquireCommand()),
    fc.tuple(fc.nat(10), fc.boolean()).map(([pick, dispose]) => new ReleaseAgainCommand(pick, dispose)),
    fc.constant(new PlainReleaseCommand()),
    fc.nat(4).map((pick) => new AbortCommand(pick)),
    fc.integer({ min: 0, max: 25 }).map((ms) => new AdvanceCommand(ms)),
  ],
  { maxCommands: 40, size: 'max' },
);

/** Ends the run: releases until nobody waits and nothing is held, then checks nothing is left. */
async function finish(world: World): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    const hold = liveHolds(world).find((h) => h.release !== undefined);
    if (hold !== undefined) {
      hold.released = true;
      (hold.release as Releaser)();
      modelRelease(world);
    } else if (world.queue.length > 0) {
      // A plain Semaphore that started at 0 may have waiters and no holder.
      world.primitive.release();
      modelRelease(world);
    } else if (liveHolds(world).length === 0) {
      break;
    } else {
      throw new Error('model bug: a live hold without a Releaser');
    }
    await verify(world);
  }
  expect(world.queue).toEqual([]);
  expect(liveHolds(world)).toEqual([]);
  if (world.kind !== 'Semaphore') expect(world.value).toBe(world.initial);
  vi.advanceTimersByTime(1);
  expect(world.primitive.waiterCount).toBe(0);
  expect(world.primitive.isLocked()).toBe(world.value === 0);
  expect(vi.getTimerCount()).toBe(0);
  for (const controller of world.controllers) expect(abortListeners(controller.signal)).toBe(0);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Lock, Semaphore and BoundedSemaphore model', () => {
  it.each([
    ['Lock', fc.constant(1)],
    ['Semaphore', fc.integer({ min: 0, max: 3 })],
    ['BoundedSemaphore', fc.integer({ min: 1, max: 3 })],
  ] as const)(
    '%s matches the model for random acquires, releases, aborts and time steps, and leaves nothing',
    async (kind, initialArb) => {
      await fc.assert(
        fc.asyncProperty(initialArb, commandsArb, async (initial, commands) => {
          vi.useFakeTimers();
          try {
            const world = createWorld(kind, initial);
            await fc.asyncModelRun(() => ({ model: world, real: world }), commands);
            await finish(world);
          } finally {
            vi.useRealTimers();
          }
        }),
        { numRuns: 120 },
      );
    },
    30_000,
  );
});
