/**
 * Model test for Deadline: random sequences of constructions (ms 0 to Infinity, with or without
 * one of two shared outer controllers), reschedules (also with a bad ms), time steps, outer aborts
 * and disposals, checked against a few lines of model after every step: `signal.aborted`,
 * `expired()`, `when`, the abort reason, and which calls throw what. At the end, with everything
 * disposed, no fake timer and no listener on an outer signal is left.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../src/index.js';
import { abortListeners, expectTimeoutError } from './helpers.js';

const OUTERS = 2;

type OuterChoice = 'none' | 0 | 1;

interface ModelDeadline {
  readonly label: string;
  readonly deadline: Deadline;
  readonly outer: number | undefined;
  /** Model: the deadline in fake ms since the run started, or Infinity. */
  when: number;
  state: 'armed' | 'expired' | 'aborted';
  /** For 'aborted': the exact outer reason. */
  reason: unknown;
  disposed: boolean;
  /** The TimeoutError first seen on an expired deadline: it must never change. */
  timeoutReason: unknown;
}

interface World {
  readonly controllers: AbortController[];
  readonly aborted: boolean[];
  readonly deadlines: ModelDeadline[];
  /** performance.now() when the run started (the fake clock). */
  readonly start: number;
  /** Fake ms since the run started. */
  now: number;
  /**
   * When a registration was last dropped (reschedule, dispose, abort, expiry): until fake time
   * moves past it, a shared timer that nothing needs may still wait for its deferred release.
   */
  releasedAt: number;
}

function createWorld(): World {
  const controllers = Array.from({ length: OUTERS }, () => new AbortController());
  return {
    controllers,
    aborted: controllers.map(() => false),
    deadlines: [],
    start: performance.now(),
    now: 0,
    releasedAt: -1,
  };
}

/** Live deadlines whose timer can still fire. */
function armed(world: World): ModelDeadline[] {
  return world.deadlines.filter((d) => d.state === 'armed' && !d.disposed);
}

/** Compares every real Deadline with its model. Everything here is synchronous. */
function verify(world: World): void {
  const timeoutReasons = new Set<unknown>();
  for (const d of world.deadlines) {
    const { deadline, label } = d;
    expect(deadline.signal.aborted, label).toBe(d.state !== 'armed');
    expect(deadline.expired(), label).toBe(d.state === 'expired');
    expect(deadline.when, label).toBe(d.when === Number.POSITIVE_INFINITY ? d.when : world.start + d.when);
    if (d.state === 'aborted') {
      expect(deadline.signal.reason, label).toBe(d.reason);
    } else if (d.state === 'expired') {
      const reason = deadline.signal.reason;
      expectTimeoutError(reason);
      d.timeoutReason ??= reason;
      expect(reason, label).toBe(d.timeoutReason);
      // A fresh TimeoutError for every deadline.
      expect(timeoutReasons.has(reason), label).toBe(false);
      timeoutReasons.add(reason);
    }
  }
  // Once deferred releases ran, no timer beyond one per deadline that can still fire.
  if (world.releasedAt < world.now) {
    const canFire = armed(world).filter((d) => d.when !== Number.POSITIVE_INFINITY).length;
    expect(vi.getTimerCount()).toBeLessThanOrEqual(canFire);
  }
  // One listener per outer signal at most, and none once it aborted.
  world.controllers.forEach((controller, i) => {
    expect(abortListeners(controller.signal)).toBeLessThanOrEqual(world.aborted[i] ? 0 : 1);
  });
}

function pick(world: World, index: number): ModelDeadline | undefined {
  return world.deadlines[index % Math.max(world.deadlines.length, 1)];
}

type Command = fc.Command<World, World>;

class CreateCommand implements Command {
  constructor(
    readonly ms: number,
    readonly outer: OuterChoice,
  ) {}
  check(): boolean {
    return true;
  }
  run(world: World): void {
    const outer = this.outer === 'none' ? undefined : this.outer;
    const controller = outer === undefined ? undefined : world.controllers[outer];
    const deadline =
      controller === undefined ? new Deadline(this.ms) : new Deadline(this.ms, { signal: controller.signal });
    const model: ModelDeadline = {
      label: `#${world.deadlines.length} ${this.toString()} at ${world.now}`,
      deadline,
      outer,
      when: world.now + this.ms,
      state: 'armed',
      reason: undefined,
      disposed: false,
      timeoutReason: undefined,
    };
    if (outer !== undefined && world.aborted[outer]) {
      // Aborted at once with the outer reason; there is no deadline any more.
      model.state = 'aborted';
      model.reason = controller?.signal.reason;
      model.when = Number.POSITIVE_INFINITY;
    }
    world.deadlines.push(model);
    verify(world);
  }
  toString(): string {
    return `new Deadline(${this.ms}, outer: ${this.outer})`;
  }
}

class RescheduleCommand implements Command {
  constructor(
    readonly index: number,
    readonly ms: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(world: World): void {
    const d = pick(world, this.index);
    if (d === undefined) return;
    let error: unknown;
    try {
      d.deadline.reschedule(this.ms);
    } catch (e) {
      error = e;
    }
    if (!(this.ms >= 0)) {
      // Invalid arguments are reported first, whatever the state; nothing changes.
      expect(error, d.label).toBeInstanceOf(RangeError);
    } else if (d.disposed || d.state !== 'armed') {
      expect(error, d.label).toBeInstanceOf(DOMException);
      expect((error as DOMException).name, d.label).toBe('InvalidStateError');
    } else {
      expect(error, d.label).toBeUndefined();
      d.when = world.now + this.ms;
      world.releasedAt = world.now;
    }
    verify(world);
  }
  toString(): string {
    return `reschedule(${this.index}, ${this.ms})`;
  }
}

class AdvanceCommand implements Command {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  run(world: World): void {
    const end = world.now + this.ms;
    // Check one ms before and at every deadline on the way, and at a deadline already due now
    // (a 0 ms deadline fires from the next timer run, also of 0 ms).
    const checkpoints = new Set<number>([end]);
    for (const d of armed(world)) {
      if (d.when <= end) checkpoints.add(Math.max(world.now, d.when - 1)).add(Math.max(world.now, d.when));
    }
    for (const time of [...checkpoints].sort((a, b) => a - b)) {
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      for (const d of armed(world)) {
        if (d.when > world.now) continue;
        d.state = 'expired';
        world.releasedAt = world.now;
      }
      verify(world);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class AbortOuterCommand implements Command {
  constructor(readonly index: number) {}
  check(): boolean {
    return true;
  }
  run(world: World): void {
    const i = this.index % OUTERS;
    const controller = world.controllers[i] as AbortController;
    controller.abort({ outer: i });
    world.releasedAt = world.now;
    if (!world.aborted[i]) {
      world.aborted[i] = true;
      for (const d of armed(world)) {
        if (d.outer !== i) continue;
        d.state = 'aborted';
        d.reason = controller.signal.reason;
      }
    }
    expect(abortListeners(controller.signal)).toBe(0);
    verify(world);
  }
  toString(): string {
    return `abortOuter(${this.index % OUTERS})`;
  }
}

class DisposeCommand implements Command {
  constructor(readonly index: number) {}
  check(): boolean {
    return true;
  }
  run(world: World): void {
    const d = pick(world, this.index);
    if (d === undefined) return;
    // Never throws, also twice; the signal keeps its state.
    expect(() => d.deadline[Symbol.dispose]()).not.toThrow();
    d.disposed = true;
    world.releasedAt = world.now;
    verify(world);
  }
  toString(): string {
    return `dispose(${this.index})`;
  }
}

const msArb = fc.constantFrom(0, 1, 5, 20, Number.POSITIVE_INFINITY);
const commandsArb = fc.commands(
  [
    fc.tuple(msArb, fc.constantFrom<OuterChoice>('none', 0, 1)).map(([ms, outer]) => new CreateCommand(ms, outer)),
    fc.tuple(msArb, fc.constantFrom<OuterChoice>('none', 0, 1)).map(([ms, outer]) => new CreateCommand(ms, outer)),
    fc
      .tuple(fc.nat(10), fc.oneof(msArb, msArb, fc.constantFrom(-1, Number.NaN)))
      .map(([index, ms]) => new RescheduleCommand(index, ms)),
    fc.tuple(fc.nat(10), msArb).map(([index, ms]) => new RescheduleCommand(index, ms)),
    fc.integer({ min: 0, max: 25 }).map((ms) => new AdvanceCommand(ms)),
    fc.integer({ min: 0, max: 25 }).map((ms) => new AdvanceCommand(ms)),
    fc.nat(OUTERS - 1).map((index) => new AbortOuterCommand(index)),
    fc.nat(10).map((index) => new DisposeCommand(index)),
  ],
  { maxCommands: 40, size: 'max' },
);

/** Disposes everything, then checks that nothing is left and that nothing fires any more. */
function finish(world: World): void {
  for (const d of world.deadlines) {
    d.deadline[Symbol.dispose]();
    d.disposed = true;
  }
  world.releasedAt = world.now;
  verify(world);
  vi.advanceTimersByTime(1);
  world.now += 1;
  expect(vi.getTimerCount()).toBe(0);
  for (const controller of world.controllers) expect(abortListeners(controller.signal)).toBe(0);
  // Disposed deadlines never fire and never follow their outer signal any more.
  vi.advanceTimersByTime(1_000);
  world.now += 1_000;
  for (const controller of world.controllers) controller.abort('after dispose');
  verify(world);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Deadline model', () => {
  it('matches the model for random constructions, reschedules, time steps, outer aborts and disposals, and leaves nothing', () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        vi.useFakeTimers();
        try {
          const world = createWorld();
          fc.modelRun(() => ({ model: world, real: world }), commands);
          finish(world);
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 300 },
    );
  }, 30_000);
});
