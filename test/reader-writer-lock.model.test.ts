/**
 * Model test for ReaderWriterLock: random sequences of acquireRead/acquireWrite (plain, with an
 * own or a shared signal, with a timeout on fake timers, with an already-aborted signal),
 * tryAcquireRead/Write, runRead/runWrite (whose fn finishes when the test says, or at once, or
 * throws), releases (by Releaser, twice, by Symbol.dispose), aborts and time steps, checked
 * against a few lines of model after every step: the grants in the model's order, `readers`,
 * `isWriteLocked()` and `waiterCount` always the model's, never a writer beside anyone, and
 * nothing left at the end (no waiter, no fake timer, no listener).
 *
 * The model is the fairness rule: one FIFO queue of both kinds; a newcomer is granted at once
 * only if it fits and nobody waits; whenever a hold ends or a waiter leaves the queue, the head is
 * granted while it fits (one writer, or the run of readers at the head).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReaderWriterLock, type Releaser, type WaitOptions } from '../src/index.js';
import { abortListeners, expectTimeoutError, flushMicrotasks, type Tracked, track } from './helpers.js';

type Kind = 'read' | 'write';
/** No signal, a fresh one, one of the two shared ones, or one that is already aborted. */
type SignalChoice = 'none' | 'own' | 0 | 1 | 'aborted';
/** How a run's fn ends: when the test completes it, by returning at once, or by throwing. */
type Body = 'deferred' | 'value' | 'throw';

/** What a run's fn does and how far it got. */
interface Run {
  readonly body: Body;
  /** Times the fn was called (0 or 1). */
  calls: number;
  /** Settles the fn's promise (a `deferred` body, once called). */
  settle: { resolve: (value: string) => void; reject: (error: unknown) => void } | undefined;
  /** How the test ended a deferred fn. */
  outcome: { ok: true; value: string } | { ok: false; error: Error } | undefined;
}

/** One hold of the lock, in the model: granted to an acquire, a try* or a run. */
interface Hold {
  readonly label: string;
  readonly kind: Kind;
  /** The Releaser, once the real acquire was seen to fulfil (undefined for runs). */
  release: Releaser | undefined;
  /** Ended, in the model. */
  released: boolean;
  readonly run: Run | undefined;
}

/** One call of acquireRead/acquireWrite/runRead/runWrite. */
interface Entry {
  readonly label: string;
  readonly kind: Kind;
  readonly run: Run | undefined;
  readonly tracked: Tracked<unknown>;
  readonly controller: number | undefined;
  readonly timeout: number | undefined;
  readonly deadline: number;
  expected:
    | { outcome: 'granted'; hold: Hold }
    | { outcome: 'reason'; reason: unknown }
    | { outcome: 'timeout' }
    | undefined;
}

interface World {
  readonly rw: ReaderWriterLock;
  readonly controllers: AbortController[];
  readonly aborted: boolean[];
  readonly entries: Entry[];
  readonly holds: Hold[];
  /** Model: the queue of pending entries, oldest first. */
  readonly queue: Entry[];
  /** Model: read holds now. */
  readers: number;
  /** Model: a writer holds the lock. */
  writer: boolean;
  /**
   * Model: holds whose real release happens a few microtasks after the step that ended them (a
   * run granted from the queue whose fn returns or throws at once; a run the test completed), in
   * the order the lock sees those releases.
   */
  readonly releasing: Hold[];
  now: number;
  /** Labels in the order the real holds began: acquire fulfilments, run fn calls, try* successes. */
  readonly began: string[];
  /** Labels in the order the model granted. */
  readonly granted: string[];
  /** Read and write holds the test has seen begin and not yet ended. */
  seenReaders: number;
  seenWriters: number;
  /** Holds that began beside a writer (or a writer beside anyone), as the test saw them. */
  readonly overlaps: string[];
}

function createWorld(): World {
  const controllers = [new AbortController(), new AbortController()];
  return {
    rw: new ReaderWriterLock({ name: 'model' }),
    controllers,
    aborted: controllers.map(() => false),
    entries: [],
    holds: [],
    queue: [],
    readers: 0,
    writer: false,
    releasing: [],
    now: 0,
    began: [],
    granted: [],
    seenReaders: 0,
    seenWriters: 0,
    overlaps: [],
  };
}

// ---- The model -------------------------------------------------------------------------------

function fits(world: World, kind: Kind): boolean {
  return kind === 'read' ? !world.writer : !world.writer && world.readers === 0;
}

function take(world: World, kind: Kind): void {
  if (kind === 'read') world.readers++;
  else world.writer = true;
}

/** Grants `entry` (just taken off the queue, or granted at once). */
function grant(world: World, entry: Entry, fromQueue: boolean): void {
  take(world, entry.kind);
  const hold: Hold = { label: entry.label, kind: entry.kind, release: undefined, released: false, run: entry.run };
  world.holds.push(hold);
  world.granted.push(entry.label);
  entry.expected = { outcome: 'granted', hold };
  if (entry.run !== undefined && entry.run.body !== 'deferred') {
    // A fn that returns or throws at once releases as soon as it is called: right away for a
    // grant at once (the queue is empty then: nothing more to grant), a hop later from the queue.
    if (fromQueue) world.releasing.push(hold);
    else endHold(world, hold);
  }
}

/** The grant loop: the head, while it fits. */
function grantHead(world: World): void {
  for (let head = world.queue[0]; head !== undefined && fits(world, head.kind); head = world.queue[0]) {
    world.queue.shift();
    grant(world, head, true);
  }
}

function endHold(world: World, hold: Hold): void {
  hold.released = true;
  if (hold.kind === 'read') world.readers--;
  else world.writer = false;
  grantHead(world);
}

/** A waiter leaves the queue (abort, timeout): whoever now fits is granted in the same step. */
function leave(world: World, entry: Entry, expected: NonNullable<Entry['expected']>): void {
  world.queue.splice(world.queue.indexOf(entry), 1);
  entry.expected = expected;
  grantHead(world);
}

// ---- Checks ----------------------------------------------------------------------------------

function liveHolds(world: World): Hold[] {
  return world.holds.filter((h) => !h.released);
}

/** What the lock shows: read at once after a step, before any microtask. */
interface Observed {
  readonly readers: number;
  readonly writing: boolean;
  readonly waiters: number;
  readonly text: string;
}

function observe(rw: ReaderWriterLock): Observed {
  return { readers: rw.readers, writing: rw.isWriteLocked(), waiters: rw.waiterCount, text: String(rw) };
}

/** The synchronous invariants: they hold right after every call, before any microtask. */
function verifyNow(world: World, observed: Observed = observe(world.rw)): void {
  expect(observed.readers).toBe(world.readers);
  expect(observed.writing).toBe(world.writer);
  expect(observed.waiters).toBe(world.queue.length);
  const state = world.writer ? 'writing' : world.readers > 0 ? `readers:${world.readers}` : 'unlocked';
  expect(observed.text).toBe(`ReaderWriterLock "model" [${state}, waiters:${world.queue.length}]`);
  // The model itself: never a writer beside anyone, and a head that waits does not fit.
  expect(world.writer && world.readers > 0).toBe(false);
  const head = world.queue[0];
  if (head !== undefined) expect(fits(world, head.kind)).toBe(false);
  const live = liveHolds(world);
  expect(live.filter((h) => h.kind === 'read')).toHaveLength(world.readers);
  expect(live.filter((h) => h.kind === 'write')).toHaveLength(world.writer ? 1 : 0);
}

/** Runs the microtasks a step started; the model then ends the holds that ended meanwhile. */
async function settle(world: World): Promise<void> {
  // A chain of runs granted one after another releases one hop per run: enough hops for any.
  for (let i = 0; i < 10; i++) await flushMicrotasks();
  for (let hold = world.releasing.shift(); hold !== undefined; hold = world.releasing.shift()) endHold(world, hold);
}

async function verify(world: World, observed?: Observed): Promise<void> {
  verifyNow(world, observed);
  await settle(world);
  verifyNow(world);
  for (const entry of world.entries) {
    const { tracked, expected, run, label } = entry;
    if (expected === undefined) {
      expect(tracked.status, label).toBe('pending');
      if (run !== undefined) expect(run.calls, label).toBe(0);
      continue;
    }
    if (expected.outcome === 'granted') {
      if (run === undefined) {
        expect(tracked.status, label).toBe('fulfilled');
        expected.hold.release ??= tracked.value as Releaser;
        expect(expected.hold.release, label).toBe(tracked.value);
        continue;
      }
      expect(run.calls, label).toBe(1);
      if (run.body === 'value') {
        expect(tracked.status, label).toBe('fulfilled');
        expect(tracked.value, label).toBe(`${label} returned`);
      } else if (run.body === 'throw') {
        expect(tracked.status, label).toBe('rejected');
        expect((tracked.reason as Error).message, label).toBe(`${label} threw`);
      } else if (run.outcome === undefined) {
        expect(tracked.status, label).toBe('pending');
      } else if (run.outcome.ok) {
        expect(tracked.status, label).toBe('fulfilled');
        expect(tracked.value, label).toBe(run.outcome.value);
      } else {
        expect(tracked.status, label).toBe('rejected');
        expect(tracked.reason, label).toBe(run.outcome.error);
      }
      continue;
    }
    if (run !== undefined) expect(run.calls, label).toBe(0);
    expect(tracked.settlements, label).toBe(1);
    expect(tracked.status, label).toBe('rejected');
    if (expected.outcome === 'reason') {
      expect(tracked.reason, label).toBe(expected.reason);
    } else {
      expectTimeoutError(tracked.reason);
      const verb = entry.kind === 'read' ? 'acquireRead' : 'acquireWrite';
      expect(tracked.reason.message).toBe(`ReaderWriterLock "model": ${verb}() timed out after ${entry.timeout} ms`);
    }
  }
  // Grants happen in the model's order, and never a writer beside anyone.
  expect(world.began).toEqual(world.granted);
  expect(world.overlaps).toEqual([]);
}

/** The test saw a hold begin: checks it has the lock to itself if it writes. */
function begin(world: World, label: string, kind: Kind): void {
  world.began.push(label);
  if (world.seenWriters > 0 || (kind === 'write' && world.seenReaders > 0)) world.overlaps.push(label);
  if (kind === 'read') world.seenReaders++;
  else world.seenWriters++;
}

/** The test ends a hold it saw begin. */
function end(world: World, kind: Kind): void {
  if (kind === 'read') world.seenReaders--;
  else world.seenWriters--;
}

// ---- Commands --------------------------------------------------------------------------------

type Command = fc.AsyncCommand<World, World>;

/** The options of a wait, and the index of its controller. */
function optionsFor(
  world: World,
  signal: SignalChoice,
  timeout: number | undefined,
): { options: WaitOptions; controller: number | undefined; preAborted: unknown } {
  const options: WaitOptions = {};
  let controller: number | undefined;
  let preAborted: unknown;
  if (signal === 'own') {
    controller = world.controllers.length;
    world.controllers.push(new AbortController());
    world.aborted.push(false);
  } else if (signal === 'aborted') {
    preAborted = { aborted: world.entries.length };
    options.signal = AbortSignal.abort(preAborted);
  } else if (signal !== 'none') {
    controller = signal;
  }
  if (controller !== undefined) options.signal = (world.controllers[controller] as AbortController).signal;
  if (timeout !== undefined) options.timeout = timeout;
  return { options, controller, preAborted };
}

/** What the model does with a new wait: reject it, grant it at once, time it out, or queue it. */
function arrive(world: World, entry: Entry, preAborted: unknown, preAbortedChoice: boolean): void {
  if (preAbortedChoice) {
    entry.expected = { outcome: 'reason', reason: preAborted };
  } else if (entry.controller !== undefined && world.aborted[entry.controller]) {
    entry.expected = { outcome: 'reason', reason: world.controllers[entry.controller]?.signal.reason };
  } else if (world.queue.length === 0 && fits(world, entry.kind)) {
    grant(world, entry, false);
  } else if (entry.timeout === 0) {
    entry.expected = { outcome: 'timeout' };
  } else {
    world.queue.push(entry);
  }
}

class AcquireCommand implements Command {
  constructor(
    readonly kind: Kind,
    readonly signal: SignalChoice,
    readonly timeout: number | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const { options, controller, preAborted } = optionsFor(world, this.signal, this.timeout);
    const label = `#${world.entries.length} ${this.toString()} at ${world.now}`;
    const promise: Promise<Releaser> =
      this.kind === 'read' ? world.rw.acquireRead(options) : world.rw.acquireWrite(options);
    promise.then(
      () => begin(world, label, this.kind),
      () => {},
    );
    const entry: Entry = {
      label,
      kind: this.kind,
      run: undefined,
      tracked: track(promise),
      controller,
      timeout: this.timeout,
      deadline: world.now + (this.timeout ?? Number.POSITIVE_INFINITY),
      expected: undefined,
    };
    world.entries.push(entry);
    arrive(world, entry, preAborted, this.signal === 'aborted');
    await verify(world);
  }
  toString(): string {
    return `acquire${this.kind === 'read' ? 'Read' : 'Write'}(signal: ${this.signal}, timeout: ${this.timeout})`;
  }
}

class RunCommand implements Command {
  constructor(
    readonly kind: Kind,
    readonly body: Body,
    readonly signal: SignalChoice,
    readonly timeout: number | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const { options, controller, preAborted } = optionsFor(world, this.signal, this.timeout);
    const label = `#${world.entries.length} ${this.toString()} at ${world.now}`;
    const run: Run = { body: this.body, calls: 0, settle: undefined, outcome: undefined };
    const kind = this.kind;
    const fn = (): string | Promise<string> => {
      run.calls++;
      begin(world, label, kind);
      if (run.body === 'value') {
        end(world, kind);
        return `${label} returned`;
      }
      if (run.body === 'throw') {
        end(world, kind);
        throw new Error(`${label} threw`);
      }
      return new Promise<string>((resolve, reject) => {
        run.settle = { resolve, reject };
      });
    };
    const promise = kind === 'read' ? world.rw.runRead(fn, options) : world.rw.runWrite(fn, options);
    const entry: Entry = {
      label,
      kind,
      run,
      tracked: track(promise),
      controller,
      timeout: this.timeout,
      deadline: world.now + (this.timeout ?? Number.POSITIVE_INFINITY),
      expected: undefined,
    };
    world.entries.push(entry);
    arrive(world, entry, preAborted, this.signal === 'aborted');
    await verify(world);
  }
  toString(): string {
    const method = this.kind === 'read' ? 'runRead' : 'runWrite';
    return `${method}(${this.body}, signal: ${this.signal}, timeout: ${this.timeout})`;
  }
}

class TryAcquireCommand implements Command {
  constructor(readonly kind: Kind) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const release = this.kind === 'read' ? world.rw.tryAcquireRead() : world.rw.tryAcquireWrite();
    if (world.queue.length === 0 && fits(world, this.kind)) {
      expect(release).toBeTypeOf('function');
      const label = `${this.toString()} at ${world.now} (#${world.holds.length})`;
      take(world, this.kind);
      world.granted.push(label);
      begin(world, label, this.kind);
      world.holds.push({ label, kind: this.kind, release, released: false, run: undefined });
    } else {
      // Never barges ahead of a queued waiter, and never beside a writer.
      expect(release).toBeUndefined();
    }
    await verify(world);
  }
  toString(): string {
    return `tryAcquire${this.kind === 'read' ? 'Read' : 'Write'}()`;
  }
}

class ReleaseCommand implements Command {
  constructor(
    readonly pick: number,
    readonly dispose: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const holds = liveHolds(world).filter((h) => h.release !== undefined);
    const hold = holds[this.pick % Math.max(holds.length, 1)];
    if (hold === undefined) return;
    end(world, hold.kind);
    if (this.dispose) (hold.release as Releaser)[Symbol.dispose]();
    else (hold.release as Releaser)();
    // Whoever now fits holds it in the same synchronous step.
    endHold(world, hold);
    await verify(world);
  }
  toString(): string {
    return `release(hold ${this.pick}${this.dispose ? ', dispose' : ''})`;
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
    const done = world.holds.filter((h) => h.released && h.release !== undefined);
    const hold = done[this.pick % Math.max(done.length, 1)];
    if (hold === undefined) return;
    // A Releaser acts on its first call only: this changes nothing.
    if (this.dispose) (hold.release as Releaser)[Symbol.dispose]();
    else (hold.release as Releaser)();
    await verify(world);
  }
  toString(): string {
    return `releaseAgain(${this.pick}, ${this.dispose ? 'dispose' : 'call'})`;
  }
}

class CompleteRunCommand implements Command {
  constructor(
    readonly pick: number,
    readonly ok: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const running = liveHolds(world).filter((h) => h.run?.settle !== undefined && h.run.outcome === undefined);
    const hold = running[this.pick % Math.max(running.length, 1)];
    if (hold === undefined) return;
    const run = hold.run as Run;
    const settle = run.settle as NonNullable<Run['settle']>;
    end(world, hold.kind);
    if (this.ok) {
      run.outcome = { ok: true, value: `${hold.label} resolved` };
      settle.resolve(run.outcome.value);
    } else {
      run.outcome = { ok: false, error: new Error(`${hold.label} rejected`) };
      settle.reject(run.outcome.error);
    }
    // runRead/runWrite release once the fn's promise settles: a few microtasks from now.
    world.releasing.push(hold);
    await verify(world);
  }
  toString(): string {
    return `completeRun(${this.pick}, ${this.ok ? 'resolve' : 'reject'})`;
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
      // Every wait on the signal leaves the queue before whoever now fits is granted, so no wait
      // on this signal is granted on the way (see "one abort never grants a wait on the aborted
      // signal on the way" in reader-writer-lock.test.ts).
      const gone = world.queue.filter((entry) => entry.controller === index);
      for (const entry of gone) {
        world.queue.splice(world.queue.indexOf(entry), 1);
        entry.expected = { outcome: 'reason', reason: controller.signal.reason };
      }
      grantHead(world);
    }
    // Gone, and whoever now fits granted, by the time abort() returns.
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
    for (const entry of world.queue) {
      if (entry.deadline <= end) checkpoints.add(entry.deadline - 1).add(entry.deadline);
    }
    for (const time of [...checkpoints].sort((a, b) => a - b)) {
      if (time <= world.now) continue;
      const due = world.queue.filter((entry) => entry.deadline <= time);
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      // Expired, and whoever now fits granted, by the time the timer callbacks returned.
      const observed = observe(world.rw);
      if (due.length > 1) {
        // Waits due at the same time expire one after the other, and after each whoever now fits
        // is granted: a reader behind a writer due at that time too may be granted before its own
        // timer fires. Which goes first is the timers' business (waits with different timeouts
        // have different timers), so the model follows the order the lock took: it lets the
        // microtasks tell which due waits timed out, expires those (the last first: leaving
        // behind the head grants nothing), then whatever is due and still waits. Any outcome no
        // order of expiry gives fails the checks below.
        await flushMicrotasks();
        const timedOut = due.filter(
          (e) => e.tracked.status === 'rejected' && (e.run === undefined || e.run.calls === 0),
        );
        for (const entry of timedOut.reverse()) leave(world, entry, { outcome: 'timeout' });
      }
      for (const entry of due) {
        if (world.queue.includes(entry)) leave(world, entry, { outcome: 'timeout' });
      }
      await verify(world, observed);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

const kindArb = fc.constantFrom<Kind>('read', 'write');
const signalArb = fc.constantFrom<SignalChoice>('none', 'none', 'own', 0, 1, 'aborted');
const timeoutArb = fc.constantFrom<number | undefined>(undefined, undefined, 0, 1, 5, 20, Number.POSITIVE_INFINITY);
const acquireArb = fc.tuple(kindArb, signalArb, timeoutArb).map(([k, s, t]) => new AcquireCommand(k, s, t));
const runArb = fc
  .tuple(kindArb, fc.constantFrom<Body>('deferred', 'deferred', 'value', 'throw'), signalArb, timeoutArb)
  .map(([k, b, s, t]) => new RunCommand(k, b, s, t));
const releaseArb = fc.tuple(fc.nat(10), fc.boolean()).map(([pick, dispose]) => new ReleaseCommand(pick, dispose));

const commandsArb = fc.commands(
  [
    acquireArb,
    acquireArb,
    acquireArb,
    runArb,
    runArb,
    releaseArb,
    releaseArb,
    kindArb.map((kind) => new TryAcquireCommand(kind)),
    fc.tuple(fc.nat(10), fc.boolean()).map(([pick, dispose]) => new ReleaseAgainCommand(pick, dispose)),
    fc.tuple(fc.nat(10), fc.boolean()).map(([pick, ok]) => new CompleteRunCommand(pick, ok)),
    fc.nat(4).map((pick) => new AbortCommand(pick)),
    fc.integer({ min: 0, max: 25 }).map((ms) => new AdvanceCommand(ms)),
  ],
  { maxCommands: 50, size: 'max' },
);

/** Ends the run: ends every hold until nobody waits and nothing is held, then checks nothing is left. */
async function finish(world: World): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    const hold = liveHolds(world)[0];
    if (hold === undefined) break;
    if (hold.release !== undefined) {
      end(world, hold.kind);
      hold.release();
      endHold(world, hold);
    } else {
      const run = hold.run as Run;
      expect(run.settle, `${hold.label} is running`).toBeDefined();
      end(world, hold.kind);
      run.outcome = { ok: true, value: `${hold.label} resolved` };
      run.settle?.resolve(run.outcome.value);
      world.releasing.push(hold);
    }
    await verify(world);
  }
  expect(world.queue).toEqual([]);
  expect(liveHolds(world)).toEqual([]);
  expect(world.entries.filter((e) => e.expected === undefined)).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(world.rw.waiterCount).toBe(0);
  expect(world.rw.readers).toBe(0);
  expect(world.rw.isWriteLocked()).toBe(false);
  expect(vi.getTimerCount()).toBe(0);
  for (const controller of world.controllers) expect(abortListeners(controller.signal)).toBe(0);
  expect(world.seenReaders + world.seenWriters).toBe(0);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ReaderWriterLock model', () => {
  it('matches the fairness model for random acquires, runs, releases, aborts and time steps, and leaves nothing', async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb, async (commands) => {
        vi.useFakeTimers();
        try {
          const world = createWorld();
          await fc.asyncModelRun(() => ({ model: world, real: world }), commands);
          await finish(world);
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('grants the readers behind a head writer that gives up, in the same step (a fixed sequence)', async () => {
    vi.useFakeTimers();
    const world = createWorld();
    const commands: Command[] = [
      new AcquireCommand('read', 'none', undefined),
      new AcquireCommand('write', 0, undefined),
      new RunCommand('read', 'deferred', 'none', undefined),
      new AcquireCommand('read', 'none', 20),
      new AcquireCommand('write', 'none', 5),
      new AcquireCommand('read', 'none', undefined),
      new AbortCommand(0),
      new AdvanceCommand(5),
      new CompleteRunCommand(0, true),
      new ReleaseCommand(0, false),
      new ReleaseCommand(0, true),
    ];
    for (const command of commands) await command.run(world, world);
    expect(world.granted).toHaveLength(4);
    await finish(world);
  });
});
