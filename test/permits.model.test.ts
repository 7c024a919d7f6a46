/**
 * Model test for Lock, Semaphore and BoundedSemaphore: random sequences of acquires (weighted on
 * the semaphores, with and without signals and timeouts, impossible weights included),
 * tryAcquires, releases (by Releaser, twice, or asyncio-style `release(weight)`), bad weights,
 * aborts and time steps, checked against a few lines of model after every step: grants in the
 * model's order, never two holders of a Lock, `value`, `waiterCount` and `isLocked()` always the
 * model's, and nothing left at the end (no waiter, no fake timer, no listener).
 *
 * The model's two rules: FIFO without barging (a wait takes its weight at once only if it is free
 * and nobody waits; the head blocks everyone behind it until it fits), and after every change
 * (a release, or a wait giving up anywhere in the queue) every waiter at the head that now fits
 * is granted, in order, in that same synchronous step.
 *
 * The one order the contract leaves open: when waits with different timeouts expire at the same
 * fake millisecond, their timers fire in an unspecified order, and that order can decide whether
 * a wait behind an expiring head is granted or times out. The model then computes the outcome of
 * every order and requires the real one to be one of them, exactly. One timer expires its waits
 * one at a time in queue order, each granting what now fits (so a wait due at that same moment
 * may be granted first); one abort takes all its waits off the queue before it grants anything.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoundedSemaphore, Lock, type Releaser, Semaphore } from '../src/index.js';
import { abortListeners, expectTimeoutError, flushMicrotasks, type Tracked, track } from './helpers.js';

type Kind = 'Lock' | 'Semaphore' | 'BoundedSemaphore';
type SignalChoice = 'none' | 'own' | 0 | 1;
/** How an acquire of weight 1 passes it: no `weight` key, `weight: undefined`, or `weight: 1`. */
type WeightForm = 'omit' | 'undefined' | 'explicit';

/** One hold of permits: who got it, how many, and the Releaser it got. */
interface Hold {
  readonly label: string;
  readonly weight: number;
  release: Releaser | undefined;
  /** Released through its Releaser, or given back with `release()`. */
  released: boolean;
  /** Given back with `release()`: its Releaser must never be called (that would be a second release). */
  returned: boolean;
}

type Outcome = { outcome: 'granted' } | { outcome: 'reason'; reason: unknown } | { outcome: 'timeout' };

interface ModelWait {
  readonly label: string;
  readonly weight: number;
  readonly tracked: Tracked<Releaser>;
  readonly controller: number | undefined;
  readonly deadline: number;
  readonly timeout: number | undefined;
  expected:
    | { outcome: 'granted'; hold: Hold }
    | { outcome: 'reason'; reason: unknown }
    | { outcome: 'timeout' }
    | { outcome: 'rangeError' }
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
  queue: ModelWait[];
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

/** The largest weight a command asks for: one more than the initial value (at least 2). */
function weightFor(world: World, raw: number): number {
  if (world.kind === 'Lock') return 1;
  return 1 + ((raw - 1) % Math.max(world.initial + 1, 2));
}

/** A weight that can never be granted: only on a BoundedSemaphore, above its initial value. */
function impossible(world: World, weight: number): boolean {
  return world.kind === 'BoundedSemaphore' && weight > world.initial;
}

// --- The model of the queue: a copy of its state that changes go through, then are committed. ---

/** A model state being changed: the queue, the free permits, and what happened to whom, in order. */
interface Step {
  readonly queue: ModelWait[];
  value: number;
  readonly events: Array<readonly [ModelWait, Outcome]>;
}

function stepOf(world: World): Step {
  return { queue: [...world.queue], value: world.value, events: [] };
}

/** Grants every waiter at the head that fits, in order (the rule after every change). */
function grantAll(step: Step): void {
  for (let head = step.queue[0]; head !== undefined && head.weight <= step.value; head = step.queue[0]) {
    step.queue.shift();
    step.value -= head.weight;
    step.events.push([head, { outcome: 'granted' }]);
  }
}

/** `wait` gives up (abort or timeout), if it still waits; then the ones that now fit are granted. */
function giveUp(step: Step, wait: ModelWait, outcome: Outcome): void {
  const index = step.queue.indexOf(wait);
  if (index === -1) return;
  step.queue.splice(index, 1);
  step.events.push([wait, outcome]);
  grantAll(step);
}

/** Makes `step` the world's model state, and records its grants and give-ups. */
function commit(world: World, step: Step): void {
  world.queue = step.queue;
  world.value = step.value;
  for (const [wait, outcome] of step.events) {
    if (outcome.outcome === 'granted') {
      const hold: Hold = {
        label: wait.label,
        weight: wait.weight,
        release: undefined,
        released: false,
        returned: false,
      };
      world.holds.push(hold);
      world.granted.push(wait.label);
      wait.expected = { outcome: 'granted', hold };
    } else {
      wait.expected = outcome;
    }
  }
}

/** Model of a release of `weight` permits: back to the pool, then to the waiters that now fit. */
function modelRelease(world: World, weight: number): void {
  const step = stepOf(world);
  step.value += weight;
  grantAll(step);
  commit(world, step);
}

// --- Checks. ---

/** The synchronous invariants: they hold right after every call, before any microtask. */
function verifyNow(world: World): void {
  const { primitive } = world;
  expect(primitive.waiterCount).toBe(world.queue.length);
  // An acquire of one permit now would wait.
  expect(primitive.isLocked()).toBe(world.value === 0 || world.queue.length > 0);
  if (primitive instanceof Semaphore) expect(primitive.value).toBe(world.value);
  // Every waiter that fits was granted: the head never fits in what is free.
  const head = world.queue[0];
  if (head !== undefined) expect(head.weight).toBeGreaterThan(world.value);
  if (world.kind === 'Lock') {
    expect(liveHolds(world).length).toBeLessThanOrEqual(1);
    expect(primitive.isLocked()).toBe(liveHolds(world).length === 1);
  }
  if (world.kind !== 'Semaphore') {
    const held = liveHolds(world).reduce((sum, h) => sum + h.weight, 0);
    expect(held + world.value).toBe(world.initial);
  }
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
    } else if (expected.outcome === 'rangeError') {
      expect(tracked.status, wait.label).toBe('rejected');
      expect(tracked.reason, wait.label).toBeInstanceOf(RangeError);
      expect((tracked.reason as Error).message).toContain('The "weight" option');
    } else {
      expect(tracked.status, wait.label).toBe('rejected');
      expectTimeoutError(tracked.reason);
      expect(tracked.reason.message).toContain(`${world.kind} "model"`);
    }
  }
  // Grants happen in the model's order: the real fulfilments follow the model's grants exactly.
  expect(world.fulfilled).toEqual(world.granted);
}

/** Calls `fn`, which must throw; returns the error. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

// --- Commands. ---

type Command = fc.AsyncCommand<World, World>;

class AcquireCommand implements Command {
  constructor(
    readonly signal: SignalChoice,
    readonly timeout: number | undefined,
    readonly rawWeight: number,
    readonly form: WeightForm,
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
    const weight = weightFor(world, this.rawWeight);
    const options: { signal?: AbortSignal; timeout?: number; weight?: number | undefined } = {};
    if (controller !== undefined) options.signal = (world.controllers[controller] as AbortController).signal;
    if (this.timeout !== undefined) options.timeout = this.timeout;
    if (world.kind !== 'Lock') {
      if (weight > 1 || this.form === 'explicit') options.weight = weight;
      else if (this.form === 'undefined') options.weight = undefined;
    }
    const label = `acquire #${world.waits.length} ${this.toString()} weight ${weight} at ${world.now}`;
    const timers = vi.getTimerCount();
    const promise = world.primitive.acquire(options);
    promise.then(
      () => world.fulfilled.push(label),
      () => {},
    );
    const wait: ModelWait = {
      label,
      weight,
      tracked: track(promise),
      controller,
      deadline: world.now + (this.timeout ?? Number.POSITIVE_INFINITY),
      timeout: this.timeout,
      expected: undefined,
    };
    world.waits.push(wait);
    if (impossible(world, weight)) {
      // Checked before the signal: rejected at once, registering nothing.
      wait.expected = { outcome: 'rangeError' };
    } else if (controller !== undefined && world.aborted[controller]) {
      wait.expected = { outcome: 'reason', reason: world.controllers[controller]?.signal.reason };
    } else if (world.value >= weight && world.queue.length === 0) {
      world.value -= weight;
      const hold: Hold = { label, weight, release: undefined, released: false, returned: false };
      world.holds.push(hold);
      world.granted.push(label);
      wait.expected = { outcome: 'granted', hold };
    } else if (this.timeout === 0) {
      wait.expected = { outcome: 'timeout' };
    } else {
      world.queue.push(wait);
    }
    // A wait settled at once made no timer.
    if (wait.expected !== undefined) expect(vi.getTimerCount()).toBe(timers);
    await verify(world);
  }
  toString(): string {
    return `acquire(signal: ${this.signal}, timeout: ${this.timeout}, weight: ${this.rawWeight}/${this.form})`;
  }
}

class TryAcquireCommand implements Command {
  constructor(
    readonly rawWeight: number,
    readonly form: WeightForm,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const weight = weightFor(world, this.rawWeight);
    const { primitive } = world;
    const call = () =>
      primitive instanceof Semaphore && (weight > 1 || this.form === 'explicit')
        ? primitive.tryAcquire(weight)
        : primitive.tryAcquire();
    if (impossible(world, weight)) {
      const before = String(primitive);
      const error = thrownBy(call);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain('The "weight" argument');
      expect(String(primitive)).toBe(before);
    } else {
      const release = call();
      if (world.value >= weight && world.queue.length === 0) {
        expect(release).toBeTypeOf('function');
        world.value -= weight;
        world.holds.push({
          label: `tryAcquire(${weight}) at ${world.now}`,
          weight,
          release,
          released: false,
          returned: false,
        });
      } else {
        // Never barges ahead of a queued waiter, even when its weight is free.
        expect(release).toBeUndefined();
      }
    }
    await verify(world);
  }
  toString(): string {
    return `tryAcquire(${this.rawWeight}/${this.form})`;
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
    modelRelease(world, hold.weight);
    // The waiters that fit hold their permits in the same synchronous step.
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
  constructor(readonly rawWeight: number) {}
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
      if (primitive instanceof Semaphore && (oldest.weight > 1 || this.rawWeight % 2 === 0)) {
        primitive.release(oldest.weight);
      } else primitive.release();
      modelRelease(world, oldest.weight);
    } else if (primitive instanceof Semaphore && world.kind === 'Semaphore') {
      // A plain Semaphore accepts releases beyond its initial value, of any weight.
      const weight = weightFor(world, this.rawWeight);
      primitive.release(weight);
      modelRelease(world, weight);
    } else {
      // Everything is free: any release is above the initial value.
      const before = String(primitive);
      const weight = weightFor(world, this.rawWeight);
      const error = thrownBy(() =>
        primitive instanceof Semaphore && weight > 1 ? primitive.release(weight) : primitive.release(),
      );
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
    return `release(${this.rawWeight})`;
  }
}

/** A BoundedSemaphore's release(weight) that would raise the value above the bound: refused. */
class OverReleaseCommand implements Command {
  constructor(readonly rawWeight: number) {}
  check(world: Readonly<World>): boolean {
    return world.kind === 'BoundedSemaphore';
  }
  async run(world: World): Promise<void> {
    const primitive = world.primitive as BoundedSemaphore;
    // The smallest weight above the bound, or `rawWeight` if that is already above it.
    const weight = Math.max(world.initial - world.value + 1, weightFor(world, this.rawWeight));
    const before = String(primitive);
    const error = thrownBy(() => primitive.release(weight));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain('BoundedSemaphore "model"');
    expect(String(primitive)).toBe(before);
    await verify(world);
  }
  toString(): string {
    return `overRelease(${this.rawWeight})`;
  }
}

const BAD_WEIGHTS: readonly unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2', null];

/** A bad weight to acquire, tryAcquire or release: an error naming it, and no change at all. */
class BadWeightCommand implements Command {
  constructor(
    readonly method: 'acquire' | 'tryAcquire' | 'release',
    readonly pick: number,
  ) {}
  check(world: Readonly<World>): boolean {
    return world.kind !== 'Lock' || this.method === 'acquire';
  }
  async run(world: World): Promise<void> {
    const { primitive } = world;
    const weight = BAD_WEIGHTS[this.pick % BAD_WEIGHTS.length] as number;
    const before = String(primitive);
    const timers = vi.getTimerCount();
    const signal = (world.controllers[0] as AbortController).signal;
    if (this.method === 'acquire') {
      const promise = primitive.acquire({ weight, signal, timeout: 5 } as never);
      expect(String(primitive)).toBe(before);
      expect(vi.getTimerCount()).toBe(timers);
      const error = await promise.then(
        () => expect.unreachable('a bad weight was accepted'),
        (e: unknown) => e,
      );
      // A Lock knows no weight at all: an unknown option, whatever its value.
      const type = world.kind === 'Lock' || typeof weight !== 'number' ? TypeError : RangeError;
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toContain(world.kind === 'Lock' ? '"weight"' : 'The "weight" option');
    } else {
      const semaphore = primitive as Semaphore;
      const error = thrownBy(() =>
        this.method === 'tryAcquire' ? semaphore.tryAcquire(weight) : semaphore.release(weight),
      );
      expect(error).toBeInstanceOf(typeof weight === 'number' ? RangeError : TypeError);
      expect((error as Error).message).toContain('The "weight" argument');
    }
    expect(String(primitive)).toBe(before);
    await verify(world);
  }
  toString(): string {
    return `${this.method}(bad weight ${String(BAD_WEIGHTS[this.pick % BAD_WEIGHTS.length])})`;
  }
}

class AbortCommand implements Command {
  constructor(
    readonly target: 'any' | 'queued' | 'head',
    readonly pick: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    // Any signal, the signal of a wait still queued (at any position), or of the first queued
    // wait that has one (most often the head).
    const queued = world.queue.flatMap((wait) => (wait.controller === undefined ? [] : [wait.controller]));
    const index =
      this.target === 'any' || queued.length === 0
        ? this.pick % world.controllers.length
        : (queued[this.target === 'head' ? 0 : this.pick % queued.length] as number);
    const controller = world.controllers[index] as AbortController;
    controller.abort({ abort: index });
    if (!world.aborted[index]) {
      world.aborted[index] = true;
      // Every wait on the signal leaves before any is settled, so none of them is granted on the
      // way (a wait behind the head on the same signal was pending when it aborted); then the
      // other waiters that now fit are granted.
      const step = stepOf(world);
      for (const wait of world.queue) {
        if (wait.controller !== index) continue;
        step.queue.splice(step.queue.indexOf(wait), 1);
        step.events.push([wait, { outcome: 'reason', reason: controller.signal.reason }]);
      }
      grantAll(step);
      commit(world, step);
    }
    // Gone, and the ones behind granted, by the time abort() returns.
    verifyNow(world);
    expect(abortListeners(controller.signal)).toBe(0);
    await verify(world);
  }
  toString(): string {
    return `abort(${this.target} ${this.pick})`;
  }
}

/** Every order of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** What a tracked acquire shows now: still waiting, granted, or rejected. */
function statusOf(outcome: Outcome | undefined): Tracked<Releaser>['status'] {
  return outcome === undefined ? 'pending' : outcome.outcome === 'granted' ? 'fulfilled' : 'rejected';
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
      // The waits due now, grouped by timeout (one shared timer each), each group in queue order:
      // a timer expires its waits in the order they started, each one granting what now fits.
      const due = world.queue.filter((wait) => wait.deadline <= time);
      const groups = [...new Set(due.map((wait) => wait.timeout))].map((ms) => due.filter((w) => w.timeout === ms));
      const candidates = permutations(groups).map((order) => {
        const step = stepOf(world);
        for (const group of order) for (const wait of group) giveUp(step, wait, { outcome: 'timeout' });
        return step;
      });
      const waiting = [...world.queue];
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      const now = {
        waiterCount: world.primitive.waiterCount,
        isLocked: world.primitive.isLocked(),
        value: world.primitive instanceof Semaphore ? world.primitive.value : undefined,
      };
      await flushMicrotasks();
      const real = waiting.map((wait) => wait.tracked.status);
      const step = candidates.find((candidate) => {
        const outcomes = new Map(candidate.events);
        return waiting.every((wait, i) => statusOf(outcomes.get(wait)) === real[i]);
      });
      if (step === undefined) {
        expect.unreachable(
          `at ${time}: no order of the timers due explains ${JSON.stringify(waiting.map((w, i) => [w.label, real[i]]))}`,
        );
      }
      commit(world, step);
      // What the timers left before any microtask ran.
      expect(now.waiterCount).toBe(world.queue.length);
      expect(now.isLocked).toBe(world.value === 0 || world.queue.length > 0);
      if (now.value !== undefined) expect(now.value).toBe(world.value);
      await verify(world);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

// Shared signals 0 and 1 stay aborted once aborted, so most waits use none or their own.
const signalArb = fc.constantFrom<SignalChoice>('none', 'none', 'own', 'own', 'own', 0, 1);
const timeoutArb = fc.constantFrom<number | undefined>(
  undefined,
  undefined,
  undefined,
  0,
  1,
  2,
  3,
  5,
  5,
  20,
  Number.POSITIVE_INFINITY,
);
const weightArb = fc.integer({ min: 1, max: 4 });
const formArb = fc.constantFrom<WeightForm>('omit', 'undefined', 'explicit');
const acquireArb = fc
  .tuple(signalArb, timeoutArb, weightArb, formArb)
  .map(([s, t, w, f]) => new AcquireCommand(s, t, w, f));
const releaseArb = fc.nat(10).map((pick) => new ReleaseCommand(pick));

const abortArb = fc
  .tuple(fc.constantFrom<'any' | 'queued' | 'head'>('any', 'queued', 'head'), fc.nat(10))
  .map(([target, pick]) => new AbortCommand(target, pick));
const advanceArb = fc.integer({ min: 0, max: 12 }).map((ms) => new AdvanceCommand(ms));

// Acquires outnumber releases, so that queues of several waits (and heavy heads) are common.
const commandsArb = fc.commands(
  [
    acquireArb,
    acquireArb,
    acquireArb,
    acquireArb,
    acquireArb,
    releaseArb,
    releaseArb,
    fc.tuple(weightArb, formArb).map(([w, f]) => new TryAcquireCommand(w, f)),
    fc.tuple(fc.nat(10), fc.boolean()).map(([pick, dispose]) => new ReleaseAgainCommand(pick, dispose)),
    weightArb.map((w) => new PlainReleaseCommand(w)),
    weightArb.map((w) => new OverReleaseCommand(w)),
    fc
      .tuple(fc.constantFrom<'acquire' | 'tryAcquire' | 'release'>('acquire', 'tryAcquire', 'release'), fc.nat(10))
      .map(([method, pick]) => new BadWeightCommand(method, pick)),
    abortArb,
    abortArb,
    advanceArb,
    advanceArb,
  ],
  { maxCommands: 50, size: 'max' },
);

/**
 * A few acquires first, so that most runs start with permits held and a queue of waits of mixed
 * weights (a heavy head with lighter waits behind it is the case that matters).
 */
const prefixArb = fc.array(acquireArb, { maxLength: 6 });

/** Ends the run: releases until nobody waits and nothing is held, then checks nothing is left. */
async function finish(world: World): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    const hold = liveHolds(world).find((h) => h.release !== undefined);
    const head = world.queue[0];
    if (hold !== undefined) {
      hold.released = true;
      (hold.release as Releaser)();
      modelRelease(world, hold.weight);
    } else if (head !== undefined && world.primitive instanceof Semaphore && world.kind === 'Semaphore') {
      // A plain Semaphore may have waiters for more than it ever had, and no holder.
      const missing = head.weight - world.value;
      world.primitive.release(missing);
      modelRelease(world, missing);
    } else if (head === undefined && liveHolds(world).length === 0) {
      break;
    } else {
      throw new Error('model bug: a waiter or a live hold that no Releaser can end');
    }
    await verify(world);
  }
  expect(world.queue).toEqual([]);
  expect(liveHolds(world)).toEqual([]);
  if (world.kind !== 'Semaphore') expect(world.value).toBe(world.initial);
  vi.advanceTimersByTime(1);
  expect(world.primitive.waiterCount).toBe(0);
  expect(world.primitive.isLocked()).toBe(world.value === 0);
  if (world.primitive instanceof Semaphore) expect(world.primitive.value).toBe(world.value);
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
    ['BoundedSemaphore', fc.constantFrom(1, 2, 3, 3, 4, 4)],
  ] as const)(
    '%s matches the model for random (weighted) acquires, releases, aborts and time steps, and leaves nothing',
    async (kind, initialArb) => {
      await fc.assert(
        fc.asyncProperty(initialArb, prefixArb, commandsArb, async (initial, prefix, commands) => {
          vi.useFakeTimers();
          try {
            const world = createWorld(kind, initial);
            for (const command of prefix) await command.run(world);
            await fc.asyncModelRun(() => ({ model: world, real: world }), commands);
            await finish(world);
          } finally {
            vi.useRealTimers();
          }
        }),
        { numRuns: 150 },
      );
    },
    60_000,
  );

  it.each(['Semaphore', 'BoundedSemaphore'] as const)(
    '%s: two timers due at the same millisecond match the model whichever fires first',
    async (kind) => {
      vi.useFakeTimers();
      try {
        const world = createWorld(kind, 2);
        // One permit held; A (weight 2, timeout 5) waits from 0, B (weight 1, timeout 2) behind
        // it from 3: both are due at 5, on two timers. If A's fires first, B takes the permit
        // A's leaving frees; if B's does, both time out. The model allows exactly these two.
        const commands: Command[] = [
          new TryAcquireCommand(1, 'explicit'),
          new AcquireCommand('none', 5, 2, 'explicit'),
          new AdvanceCommand(3),
          new AcquireCommand('none', 2, 1, 'explicit'),
        ];
        for (const command of commands) await command.run(world, world);
        expect(world.queue.map((wait) => wait.weight)).toEqual([2, 1]);
        expect(world.value).toBe(1);
        await new AdvanceCommand(2).run(world);
        const [a, b] = world.waits;
        expect(a?.expected).toEqual({ outcome: 'timeout' });
        expect(['granted', 'timeout']).toContain(b?.expected?.outcome);
        expect(world.queue).toEqual([]);
        await finish(world);
      } finally {
        vi.useRealTimers();
      }
    },
  );
});
