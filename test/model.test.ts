/**
 * Model test: random sequences of waits (with and without signals and timeouts), aborts, time
 * steps, set() and clear() on one Event, checked against a few lines of model after every step.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../src/index.js';
import { abortListeners, expectTimeoutError, flushMicrotasks, type Tracked, track } from './helpers.js';

const SHARED_CONTROLLERS = 3;

type SignalChoice = 'none' | 'own' | 0 | 1 | 2;
type ReasonKind = 'object' | 'string' | 'default';

interface Expected {
  readonly outcome: 'true' | 'reason' | 'timeout';
  /** For 'reason': the exact value the wait must reject with. */
  readonly reason?: unknown;
  /** For 'timeout': the timeout in ms, which the message must name. */
  readonly timeout?: number | undefined;
  /** Fake milliseconds since the run started. */
  readonly at: number;
}

interface ModelWait {
  readonly label: string;
  readonly tracked: Tracked<true>;
  readonly controller: number | undefined;
  readonly deadline: number;
  readonly timeout: number | undefined;
  expected: Expected | undefined;
}

/** Model and real system in one object: the model is the plain fields, the real one is `event`. */
interface World {
  readonly event: Event;
  readonly controllers: AbortController[];
  readonly aborted: boolean[];
  readonly waits: ModelWait[];
  readonly start: number;
  now: number;
  isSet: boolean;
  reasons: number;
}

function createWorld(): World {
  const controllers = Array.from({ length: SHARED_CONTROLLERS }, () => new AbortController());
  return {
    event: new Event({ name: 'model' }),
    controllers,
    aborted: controllers.map(() => false),
    waits: [],
    start: performance.now(),
    now: 0,
    isSet: false,
    reasons: 0,
  };
}

function pending(world: World): ModelWait[] {
  return world.waits.filter((w) => w.expected === undefined);
}

/** Compares the real event with the model. Called after every step. */
async function verify(world: World): Promise<void> {
  expect(world.event.waiterCount).toBe(pending(world).length);
  expect(world.event.isSet()).toBe(world.isSet);
  await flushMicrotasks();
  for (const wait of world.waits) {
    const { tracked, expected } = wait;
    if (expected === undefined) {
      expect(tracked.status, wait.label).toBe('pending');
      continue;
    }
    expect(tracked.settlements, wait.label).toBe(1);
    expect((tracked.at as number) - world.start, wait.label).toBe(expected.at);
    if (expected.outcome === 'true') {
      expect(tracked.status, wait.label).toBe('fulfilled');
      expect(tracked.value).toBe(true);
    } else if (expected.outcome === 'reason') {
      expect(tracked.status, wait.label).toBe('rejected');
      expect(tracked.reason, wait.label).toBe(expected.reason);
    } else {
      expect(tracked.status, wait.label).toBe('rejected');
      expectTimeoutError(tracked.reason);
      expect(tracked.reason.message).toContain('Event "model"');
      expect(tracked.reason.message).toMatch(new RegExp(`\\b${expected.timeout}\\b`));
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
    const label = `wait #${world.waits.length} ${this.toString()} at ${world.now}`;
    const wait: ModelWait = {
      label,
      tracked: track(world.event.wait(options)),
      controller,
      deadline: world.now + (this.timeout ?? Number.POSITIVE_INFINITY),
      timeout: this.timeout,
      expected: undefined,
    };
    if (controller !== undefined && world.aborted[controller]) {
      wait.expected = { outcome: 'reason', reason: world.controllers[controller]?.signal.reason, at: world.now };
    } else if (world.isSet) {
      wait.expected = { outcome: 'true', at: world.now };
    } else if (this.timeout === 0) {
      wait.expected = { outcome: 'timeout', timeout: 0, at: world.now };
    }
    world.waits.push(wait);
    // Registration is synchronous: the count is right before any microtask runs.
    expect(world.event.waiterCount).toBe(pending(world).length);
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
        ? { reason: world.reasons++ }
        : this.reasonKind === 'string'
          ? `reason ${world.reasons++}`
          : undefined;
    controller.abort(reason);
    if (!world.aborted[index]) {
      world.aborted[index] = true;
      for (const wait of pending(world)) {
        if (wait.controller === index)
          wait.expected = { outcome: 'reason', reason: controller.signal.reason, at: world.now };
      }
    }
    // The waiters are gone by the time abort() returns.
    expect(world.event.waiterCount).toBe(pending(world).length);
    expect(abortListeners(controller.signal)).toBe(0);
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
    // shows there), then at the end of the window.
    const checkpoints = new Set<number>();
    for (const wait of pending(world)) {
      if (wait.deadline <= end) checkpoints.add(wait.deadline - 1).add(wait.deadline);
    }
    checkpoints.add(end);
    for (const time of [...checkpoints].sort((a, b) => a - b)) {
      if (time <= world.now) continue;
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      for (const wait of pending(world)) {
        if (wait.deadline <= world.now) wait.expected = { outcome: 'timeout', timeout: wait.timeout, at: world.now };
      }
      await verify(world);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class SetCommand implements fc.AsyncCommand<World, World> {
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    world.event.set();
    world.isSet = true;
    for (const wait of pending(world)) wait.expected = { outcome: 'true', at: world.now };
    expect(world.event.waiterCount).toBe(0);
    await verify(world);
  }
  toString(): string {
    return 'set()';
  }
}

class ClearCommand implements fc.AsyncCommand<World, World> {
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    world.event.clear();
    world.isSet = false;
    await verify(world);
  }
  toString(): string {
    return 'clear()';
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
    // Listed more than once to weigh them more.
    waitArb,
    waitArb,
    waitArb,
    abortArb,
    abortArb,
    advanceArb,
    advanceArb,
    fc.constant(new SetCommand()),
    fc.constant(new ClearCommand()),
  ],
  { maxCommands: 40, size: 'max' },
);

afterEach(() => {
  vi.useRealTimers();
});

describe('Event model', () => {
  it('matches the model for random sequences of waits, aborts, time steps, set and clear, and leaves nothing', async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb, async (commands) => {
        vi.useFakeTimers();
        try {
          const world = createWorld();
          await fc.asyncModelRun(() => ({ model: world, real: world }), commands);
          // Finish: set the event and let the next macrotask pass.
          world.event.set();
          world.isSet = true;
          for (const wait of pending(world)) wait.expected = { outcome: 'true', at: world.now };
          await verify(world);
          vi.advanceTimersByTime(1);
          expect(world.event.waiterCount).toBe(0);
          expect(vi.getTimerCount()).toBe(0);
          for (const controller of world.controllers) expect(abortListeners(controller.signal)).toBe(0);
          // Every TimeoutError is a fresh object.
          const timeoutErrors = world.waits
            .filter((w) => w.expected?.outcome === 'timeout')
            .map((w) => w.tracked.reason);
          expect(new Set(timeoutErrors).size).toBe(timeoutErrors.length);
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 200 },
    );
  }, 30_000);
});
