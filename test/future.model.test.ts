/**
 * Model test: random sequences of waits (plain, with signals, with timeouts), aborts, time steps,
 * setResult() and setException() on one Future, under fake timers, checked against a few lines
 * of model after every step: which waits settled, when, and with what exact value or reason; the
 * Future's own state; and the leak invariants (README: the rules every wait follows): never more
 * than one listener on a signal nor one timer per timeout duration, and once a macrotask (1 ms of
 * fake time) has passed since the last change, exactly the listeners and timers that pending
 * waits need.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Future } from '../src/index.js';
import {
  abortListeners,
  expectTimeoutError,
  flushMicrotasks,
  type Tracked,
  track,
  unhandledRejectionsDuring,
} from './helpers.js';

const SHARED_CONTROLLERS = 3;

type SignalChoice = 'none' | 'own' | 0 | 1 | 2;
type ReasonKind = 'object' | 'string' | 'default';

interface Expected {
  readonly outcome: 'value' | 'rejected' | 'timeout';
  /** For 'value': the exact result; for 'rejected': the exact reason (abort reason or exception). */
  readonly value?: unknown;
  /** For 'timeout': the timeout in ms, which the message must name. */
  readonly timeout?: number | undefined;
  /** Fake milliseconds since the run started. */
  readonly at: number;
}

interface ModelWait {
  readonly label: string;
  readonly tracked: Tracked<unknown>;
  readonly controller: number | undefined;
  readonly deadline: number;
  readonly timeout: number | undefined;
  expected: Expected | undefined;
}

/** Model and real system in one object: the model is the plain fields, the real one is `future`. */
interface World {
  readonly future: Future<unknown>;
  readonly controllers: AbortController[];
  readonly aborted: boolean[];
  readonly waits: ModelWait[];
  readonly start: number;
  now: number;
  /** Model time of the last registration or end of a pending wait. */
  lastChange: number;
  state: 'pending' | 'done' | 'failed';
  /** The result (done) or the exception (failed). */
  outcome: unknown;
  /** Finite, positive timeouts used so far: a bound on the timers. */
  readonly durations: Set<number>;
  counter: number;
}

function createWorld(): World {
  const controllers = Array.from({ length: SHARED_CONTROLLERS }, () => new AbortController());
  return {
    future: new Future<unknown>({ name: 'model' }),
    controllers,
    aborted: controllers.map(() => false),
    waits: [],
    start: performance.now(),
    now: 0,
    lastChange: 0,
    state: 'pending',
    outcome: undefined,
    durations: new Set(),
    counter: 0,
  };
}

function pending(world: World): ModelWait[] {
  return world.waits.filter((w) => w.expected === undefined);
}

/** What a wait made now on the model settles with at once, or `undefined` if it waits. */
function settledOnEntry(world: World, controller: number | undefined, timeout: number | undefined) {
  if (controller !== undefined && world.aborted[controller]) {
    return { outcome: 'rejected', value: world.controllers[controller]?.signal.reason, at: world.now } as const;
  }
  if (world.state === 'done') return { outcome: 'value', value: world.outcome, at: world.now } as const;
  if (world.state === 'failed') return { outcome: 'rejected', value: world.outcome, at: world.now } as const;
  if (timeout === 0) return { outcome: 'timeout', timeout: 0, at: world.now } as const;
  return undefined;
}

/** Checks the listeners and timers against the pending waits. */
function verifyResources(world: World): void {
  const waiting = pending(world);
  const quiet = world.now - world.lastChange >= 1;
  world.controllers.forEach((controller, index) => {
    const listeners = abortListeners(controller.signal);
    const needed = !world.aborted[index] && waiting.some((w) => w.controller === index);
    if (world.aborted[index]) expect(listeners, `listeners on aborted signal ${index}`).toBe(0);
    else if (needed) expect(listeners, `listeners on signal ${index}, which pending waits use`).toBe(1);
    else if (quiet) expect(listeners, `listeners on unused signal ${index} after a macrotask`).toBe(0);
    // A listener no pending wait needs may linger until the next macrotask.
    else expect(listeners, `listeners on signal ${index}`).toBeLessThanOrEqual(1);
  });
  const durations = new Set(
    waiting.filter((w) => w.timeout !== undefined && Number.isFinite(w.timeout)).map((w) => w.timeout),
  );
  const timers = vi.getTimerCount();
  if (quiet) {
    expect(timers, 'one timer per pending timeout duration, after a macrotask').toBe(durations.size);
  } else {
    // Timers no pending wait needs may linger until the next macrotask (plus that sweep itself).
    expect(timers).toBeGreaterThanOrEqual(durations.size);
    expect(timers).toBeLessThanOrEqual(world.durations.size + 1);
  }
}

/** Compares the real Future with the model. Called after every step. */
async function verify(world: World): Promise<void> {
  const { future } = world;
  expect(future.waiterCount).toBe(pending(world).length);
  expect(future.done()).toBe(world.state !== 'pending');
  expect(String(future)).toBe(
    world.state === 'pending'
      ? `Future "model" [pending, waiters:${pending(world).length}]`
      : `Future "model" [${world.state}]`,
  );
  if (world.state === 'done') {
    expect(future.result()).toBe(world.outcome);
  } else {
    let thrown: unknown;
    try {
      future.result();
      expect.unreachable('result() returned before a result was set');
    } catch (error) {
      thrown = error;
    }
    if (world.state === 'failed') expect(thrown).toBe(world.outcome);
    else expect((thrown as DOMException).name).toBe('InvalidStateError');
  }
  verifyResources(world);
  await flushMicrotasks();
  for (const wait of world.waits) {
    const { tracked, expected } = wait;
    if (expected === undefined) {
      expect(tracked.status, wait.label).toBe('pending');
      continue;
    }
    expect(tracked.settlements, wait.label).toBe(1);
    expect((tracked.at as number) - world.start, wait.label).toBe(expected.at);
    if (expected.outcome === 'value') {
      expect(tracked.status, wait.label).toBe('fulfilled');
      expect(tracked.value, wait.label).toBe(expected.value);
    } else if (expected.outcome === 'rejected') {
      expect(tracked.status, wait.label).toBe('rejected');
      expect(tracked.reason, wait.label).toBe(expected.value);
    } else {
      expect(tracked.status, wait.label).toBe('rejected');
      expectTimeoutError(tracked.reason);
      expect(tracked.reason.message).toBe(`Future "model": wait() timed out after ${expected.timeout} ms`);
    }
  }
}

class WaitCommand implements fc.AsyncCommand<World, World> {
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
    if (controller !== undefined) options.signal = world.controllers[controller]?.signal as AbortSignal;
    if (this.timeout !== undefined) options.timeout = this.timeout;
    const wait: ModelWait = {
      label: `wait #${world.waits.length} ${this.toString()} at ${world.now}`,
      tracked: track(world.future.wait(options)),
      controller,
      deadline: world.now + (this.timeout ?? Number.POSITIVE_INFINITY),
      timeout: this.timeout,
      expected: settledOnEntry(world, controller, this.timeout),
    };
    world.waits.push(wait);
    if (wait.expected === undefined) {
      world.lastChange = world.now;
      if (this.timeout !== undefined && Number.isFinite(this.timeout)) world.durations.add(this.timeout);
    }
    // Registration is synchronous: the count is right before any microtask runs.
    expect(world.future.waiterCount).toBe(pending(world).length);
    await verify(world);
  }
  toString(): string {
    return `wait(signal: ${this.signal}, timeout: ${this.timeout})`;
  }
}

class AbortCommand implements fc.AsyncCommand<World, World> {
  constructor(
    readonly pick: number,
    readonly reasonKind: ReasonKind,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const index = this.pick % world.controllers.length;
    const controller = world.controllers[index] as AbortController;
    const reason =
      this.reasonKind === 'object'
        ? { reason: world.counter++ }
        : this.reasonKind === 'string'
          ? `reason ${world.counter++}`
          : undefined;
    controller.abort(reason);
    if (!world.aborted[index]) {
      world.aborted[index] = true;
      for (const wait of pending(world)) {
        if (wait.controller === index) {
          wait.expected = { outcome: 'rejected', value: controller.signal.reason, at: world.now };
          world.lastChange = world.now;
        }
      }
    }
    // The waiters are gone by the time abort() returns.
    expect(world.future.waiterCount).toBe(pending(world).length);
    await verify(world);
  }
  toString(): string {
    return `abort(${this.pick}, ${this.reasonKind})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<World, World> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const end = world.now + this.ms;
    // Check 1 ms before and at every deadline in the window (a wait that expires early or late
    // shows there), 1 ms after it (its resources must be gone), and at the end of the window.
    const checkpoints = new Set<number>([end]);
    for (const wait of pending(world)) {
      if (wait.deadline <= end)
        checkpoints
          .add(wait.deadline - 1)
          .add(wait.deadline)
          .add(wait.deadline + 1);
    }
    for (const time of [...checkpoints].sort((a, b) => a - b)) {
      if (time <= world.now || time > end) continue;
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      for (const wait of pending(world)) {
        if (wait.deadline <= world.now) {
          wait.expected = { outcome: 'timeout', timeout: wait.timeout, at: world.now };
          world.lastChange = world.now;
        }
      }
      await verify(world);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class SetCommand implements fc.AsyncCommand<World, World> {
  constructor(readonly how: 'setResult' | 'setException') {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const outcome = { [this.how]: world.counter++ };
    if (world.state !== 'pending') {
      // Set once: the second call throws and changes nothing.
      let thrown: unknown;
      try {
        if (this.how === 'setResult') world.future.setResult(outcome);
        else world.future.setException(outcome);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DOMException);
      expect((thrown as DOMException).name).toBe('InvalidStateError');
      expect((thrown as DOMException).message).toContain(`Future "model": ${this.how}()`);
    } else {
      if (this.how === 'setResult') world.future.setResult(outcome);
      else world.future.setException(outcome);
      world.state = this.how === 'setResult' ? 'done' : 'failed';
      world.outcome = outcome;
      const kind = this.how === 'setResult' ? 'value' : 'rejected';
      for (const wait of pending(world)) {
        wait.expected = { outcome: kind, value: outcome, at: world.now };
        world.lastChange = world.now;
      }
      // Every waiter is settled in the same synchronous step.
      expect(world.future.waiterCount).toBe(0);
    }
    await verify(world);
  }
  toString(): string {
    return `${this.how}()`;
  }
}

const signalArb = fc.constantFrom<SignalChoice>('none', 'own', 0, 1, 2);
const timeoutArb = fc.constantFrom<number | undefined>(undefined, 0, 1, 3, 10, 25, Number.POSITIVE_INFINITY);

const waitArb = fc.tuple(signalArb, timeoutArb).map(([signal, timeout]) => new WaitCommand(signal, timeout));
const abortArb = fc
  .tuple(fc.nat(20), fc.constantFrom<ReasonKind>('object', 'string', 'default'))
  .map(([pick, kind]) => new AbortCommand(pick, kind));
const advanceArb = fc.integer({ min: 0, max: 30 }).map((ms) => new AdvanceCommand(ms));

const commandsArb = fc.commands(
  [
    // Listed more than once to weigh them more; a set is rare, so that waits pile up first.
    waitArb,
    waitArb,
    waitArb,
    waitArb,
    abortArb,
    abortArb,
    advanceArb,
    advanceArb,
    fc.constant(new SetCommand('setResult')),
    fc.constant(new SetCommand('setException')),
  ],
  { maxCommands: 40, size: 'max' },
);

afterEach(() => {
  vi.useRealTimers();
});

describe('Future model', () => {
  it('matches the model for random sequences of waits, aborts, time steps and sets, and leaves nothing', async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb, async (commands) => {
        vi.useFakeTimers();
        try {
          let world: World | undefined;
          const unhandled = await unhandledRejectionsDuring(async () => {
            const w = createWorld();
            world = w;
            await fc.asyncModelRun(() => ({ model: w, real: w }), commands);
            // Finish: fail the Future if it is still pending (an exception that the remaining
            // waiters handle, and nobody else), and let the next macrotask pass.
            if (w.state === 'pending') await new SetCommand('setException').run(w);
            vi.advanceTimersByTime(1);
            w.now += 1;
            await verify(w);
          });
          // Failing a Future never leaves a rejection nobody handles.
          expect(unhandled).toEqual([]);
          const w = world as World;
          expect(w.future.waiterCount).toBe(0);
          expect(vi.getTimerCount()).toBe(0);
          for (const controller of w.controllers) expect(abortListeners(controller.signal)).toBe(0);
          // Every TimeoutError is a fresh object.
          const timeoutErrors = w.waits.filter((x) => x.expected?.outcome === 'timeout').map((x) => x.tracked.reason);
          expect(new Set(timeoutErrors).size).toBe(timeoutErrors.length);
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
