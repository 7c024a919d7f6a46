/**
 * Model test for LockManager: random sequences of requests on a few names (exclusive or shared,
 * with a signal, a timeout, ifAvailable or steal), releases (settling a holder's callback, also
 * a stolen holder's), aborts and time steps, checked against a small reference model of the Web
 * Locks grant rules after every step: no exclusive hold overlaps any other hold of its name,
 * requests of one name are granted in FIFO order (the whole shared run at the head at once),
 * `waiterCount`, `query()` and `String()` are the model's, every request settles as the model
 * says, and nothing is left at the end (no waiter, no fake timer, no listener, no hold).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LockInfo, LockManager, type LockRequestOptions } from '../src/index.js';
import { abortListeners, expectTimeoutError, flushMicrotasks, type Tracked, track } from './helpers.js';

const NAMES = ['a', 'b', 'c'] as const;
type Name = (typeof NAMES)[number];
type Mode = 'exclusive' | 'shared';
/** How a request is made: plainly, with a signal (one of two shared ones, or its own), a timeout, ifAvailable or steal. */
type Variant =
  | { kind: 'plain' }
  | { kind: 'signal'; controller: 0 | 1 | 'own'; timeout: number | undefined }
  | { kind: 'timeout'; timeout: number }
  | { kind: 'ifAvailable' }
  | { kind: 'steal' };

/** One request, as the model sees it. */
interface ModelRequest {
  readonly label: string;
  readonly name: Name;
  readonly mode: Mode;
  readonly tracked: Tracked<unknown>;
  /** Index into `world.controllers`, if it has a signal. */
  readonly controller: number | undefined;
  readonly deadline: number;
  /** Ends the callback's promise (and so the hold) with `label`. */
  settle: () => void;
  /** Set once the callback ran: what it was given. */
  lock: LockInfo | null | undefined;
  /** The model's outcome, once decided. */
  expected:
    | { outcome: 'held' }
    | { outcome: 'released' }
    | { outcome: 'stolen'; settled: boolean }
    | { outcome: 'null' }
    | { outcome: 'reason'; reason: unknown }
    | { outcome: 'timeout' }
    | undefined;
}

interface World {
  readonly manager: LockManager;
  readonly controllers: AbortController[];
  readonly aborted: boolean[];
  readonly requests: ModelRequest[];
  /** Model: per name, the holds in grant order and the waiting requests in FIFO order. */
  readonly holds: Map<Name, ModelRequest[]>;
  readonly queues: Map<Name, ModelRequest[]>;
  now: number;
  /** Per name, the labels in the order the model granted them. */
  readonly granted: Map<Name, string[]>;
  /** Per name, the labels in the order the real callbacks were called with a lock. */
  readonly called: Map<Name, string[]>;
}

function createWorld(): World {
  const controllers = [new AbortController(), new AbortController()];
  return {
    manager: new LockManager({ name: 'model' }),
    controllers,
    aborted: controllers.map(() => false),
    requests: [],
    holds: new Map(NAMES.map((n) => [n, []])),
    queues: new Map(NAMES.map((n) => [n, []])),
    now: 0,
    granted: new Map(NAMES.map((n) => [n, []])),
    called: new Map(NAMES.map((n) => [n, []])),
  };
}

const holdsOf = (world: World, name: Name) => world.holds.get(name) as ModelRequest[];
const queueOf = (world: World, name: Name) => world.queues.get(name) as ModelRequest[];

function fits(world: World, name: Name, mode: Mode): boolean {
  const holds = holdsOf(world, name);
  return holds.length === 0 || (mode === 'shared' && holds.every((h) => h.mode === 'shared'));
}

function modelGrant(world: World, request: ModelRequest): void {
  holdsOf(world, request.name).push(request);
  (world.granted.get(request.name) as string[]).push(request.label);
  request.expected = { outcome: 'held' };
}

/** Grants the head of `name`'s queue while it fits. */
function modelGrantWaiting(world: World, name: Name): void {
  const queue = queueOf(world, name);
  while (queue.length > 0 && fits(world, name, (queue[0] as ModelRequest).mode)) {
    modelGrant(world, queue.shift() as ModelRequest);
  }
}

/**
 * An abort: removes every waiting request on the signal, then grants whoever now fits. (A request
 * whose signal aborted is never granted, even while the abort is still cancelling the others.)
 */
function modelAbort(world: World, index: number, reason: unknown): void {
  for (const name of NAMES) {
    const queue = queueOf(world, name);
    const left = queue.filter((request) => request.controller === index);
    if (left.length === 0) continue;
    for (const request of left) {
      queue.splice(queue.indexOf(request), 1);
      request.expected = { outcome: 'reason', reason };
    }
    modelGrantWaiting(world, name);
  }
}

/**
 * Time reaches `time`: the waiting requests due expire one by one, in the order they were made
 * (a run uses one timeout duration, so that is the order of their shared timer's list), each
 * granting whoever then fits; a request granted that way before its turn does not expire.
 */
function modelExpire(world: World, time: number): void {
  for (const request of world.requests) {
    const queue = queueOf(world, request.name);
    if (request.deadline > time || !queue.includes(request)) continue;
    queue.splice(queue.indexOf(request), 1);
    request.expected = { outcome: 'timeout' };
    modelGrantWaiting(world, request.name);
  }
}

function waiting(world: World): number {
  return NAMES.reduce((sum, name) => sum + queueOf(world, name).length, 0);
}

/** The synchronous invariants: they hold right after every call that acts synchronously. */
function verifyNow(world: World): void {
  const { manager } = world;
  expect(manager.waiterCount).toBe(waiting(world));
  const held = NAMES.reduce((sum, name) => sum + holdsOf(world, name).length, 0);
  expect(String(manager)).toBe(`LockManager "model" [held:${held}, waiters:${waiting(world)}]`);
  for (const name of NAMES) {
    const holds = holdsOf(world, name);
    // Never an exclusive hold beside another hold of its name.
    if (holds.some((h) => h.mode === 'exclusive')) expect(holds).toHaveLength(1);
    // Nobody waits while the head would fit (hand-off: the head is granted at once).
    const head = queueOf(world, name)[0];
    if (head !== undefined) expect(fits(world, name, head.mode)).toBe(false);
  }
}

async function verify(world: World): Promise<void> {
  verifyNow(world);
  await flushMicrotasks();
  const { held, pending } = await world.manager.query();
  for (const name of NAMES) {
    const only = (list: LockInfo[]) => list.filter((info) => info.name === name).map((info) => info.mode);
    expect(only(held), `held ${name}`).toEqual(holdsOf(world, name).map((r) => r.mode));
    expect(only(pending), `pending ${name}`).toEqual(queueOf(world, name).map((r) => r.mode));
    // FIFO: the callbacks of one name were called in the order the model granted.
    expect(world.called.get(name), `grants of ${name}`).toEqual(world.granted.get(name));
  }
  for (const request of world.requests) {
    const { tracked, expected, label } = request;
    if (expected === undefined || expected.outcome === 'held') {
      expect(tracked.status, label).toBe('pending');
      if (expected?.outcome === 'held') expect(request.lock, label).toEqual({ name: request.name, mode: request.mode });
      else expect(request.lock, label).toBeUndefined();
      continue;
    }
    expect(tracked.settlements, label).toBe(1);
    switch (expected.outcome) {
      case 'released':
        expect(tracked.value, label).toBe(label);
        break;
      case 'null':
        expect(request.lock, label).toBeNull();
        expect(tracked.value, label).toBe(`null ${label}`);
        break;
      case 'stolen':
        expect(tracked.reason, label).toBeInstanceOf(DOMException);
        expect((tracked.reason as DOMException).name, label).toBe('AbortError');
        // A stolen callback runs all the same.
        expect(request.lock, label).toEqual({ name: request.name, mode: request.mode });
        break;
      case 'reason':
        expect(tracked.reason, label).toBe(expected.reason);
        expect(request.lock, label).toBeUndefined();
        break;
      case 'timeout':
        expectTimeoutError(tracked.reason);
        expect(tracked.reason.message).toContain(`LockManager "model": request("${request.name}")`);
        expect(request.lock, label).toBeUndefined();
        break;
    }
  }
}

type Command = fc.AsyncCommand<World, World>;

class RequestCommand implements Command {
  constructor(
    readonly name: Name,
    readonly mode: Mode,
    readonly variant: Variant,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const { name, variant } = this;
    // steal is exclusive only.
    const mode = variant.kind === 'steal' ? 'exclusive' : this.mode;
    const options: LockRequestOptions = { mode };
    let controller: number | undefined;
    let timeout: number | undefined;
    if (variant.kind === 'signal') {
      if (variant.controller === 'own') {
        controller = world.controllers.length;
        world.controllers.push(new AbortController());
        world.aborted.push(false);
      } else {
        controller = variant.controller;
      }
      options.signal = (world.controllers[controller] as AbortController).signal;
      timeout = variant.timeout;
    } else if (variant.kind === 'timeout') {
      timeout = variant.timeout;
    } else if (variant.kind === 'ifAvailable') {
      options.ifAvailable = true;
    } else if (variant.kind === 'steal') {
      options.steal = true;
    }
    if (timeout !== undefined) options.timeout = timeout;
    const label = `#${world.requests.length} ${this.toString()} at ${world.now}`;
    let settle: () => void = () => {};
    const done = new Promise<string>((resolve) => {
      settle = () => resolve(label);
    });
    const request: ModelRequest = {
      label,
      name,
      mode,
      tracked: undefined as unknown as Tracked<unknown>,
      controller,
      deadline: world.now + (timeout ?? Number.POSITIVE_INFINITY),
      settle,
      lock: undefined,
      expected: undefined,
    };
    (request as { tracked: Tracked<unknown> }).tracked = track(
      world.manager.request(name, options, (lock) => {
        request.lock = lock;
        if (lock === null) return `null ${label}`;
        (world.called.get(name) as string[]).push(label);
        return done;
      }),
    );
    world.requests.push(request);
    if (controller !== undefined && world.aborted[controller]) {
      request.expected = { outcome: 'reason', reason: world.controllers[controller]?.signal.reason };
    } else if (variant.kind === 'steal') {
      for (const stolen of holdsOf(world, name).splice(0)) stolen.expected = { outcome: 'stolen', settled: false };
      modelGrant(world, request);
    } else if (queueOf(world, name).length === 0 && fits(world, name, mode)) {
      modelGrant(world, request);
    } else if (variant.kind === 'ifAvailable') {
      request.expected = { outcome: 'null' };
    } else if (timeout === 0) {
      request.expected = { outcome: 'timeout' };
    } else {
      queueOf(world, name).push(request);
    }
    await verify(world);
  }
  toString(): string {
    const v = this.variant;
    const how =
      v.kind === 'signal'
        ? `signal ${v.controller}${v.timeout === undefined ? '' : `, timeout ${v.timeout}`}`
        : v.kind === 'timeout'
          ? `timeout ${v.timeout}`
          : v.kind;
    return `request(${this.name}, ${this.mode}, ${how})`;
  }
}

/** Ends the callback of a live hold: its name is released, and whoever now fits is granted. */
class ReleaseCommand implements Command {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const live = NAMES.flatMap((name) => holdsOf(world, name));
    const request = live[this.pick % Math.max(live.length, 1)];
    if (request === undefined) return;
    request.settle();
    const holds = holdsOf(world, request.name);
    holds.splice(holds.indexOf(request), 1);
    request.expected = { outcome: 'released' };
    modelGrantWaiting(world, request.name);
    // The release itself happens once the callback's promise settles: check after the microtasks.
    await flushMicrotasks();
    await verify(world);
  }
  toString(): string {
    return `release(${this.pick})`;
  }
}

/** Ends the callback of a stolen hold: nothing changes (it holds nothing any more). */
class ReleaseStolenCommand implements Command {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const stolen = world.requests.filter((r) => r.expected?.outcome === 'stolen' && !r.expected.settled);
    const request = stolen[this.pick % Math.max(stolen.length, 1)];
    if (request === undefined) return;
    request.settle();
    request.expected = { outcome: 'stolen', settled: true };
    await flushMicrotasks();
    await verify(world);
  }
  toString(): string {
    return `releaseStolen(${this.pick})`;
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
      modelAbort(world, index, controller.signal.reason);
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
    for (const name of NAMES) {
      for (const r of queueOf(world, name)) if (r.deadline <= end) checkpoints.add(r.deadline - 1).add(r.deadline);
    }
    for (const time of [...checkpoints].sort((a, b) => a - b)) {
      if (time <= world.now) continue;
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      modelExpire(world, time);
      verifyNow(world);
      await verify(world);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

// Mostly one name, so that queues build up; the others check that names stay independent.
const nameArb = fc.constantFrom<Name>('a', 'a', 'a', 'b', 'c');
const modeArb = fc.constantFrom<Mode>('exclusive', 'shared', 'shared');

/**
 * The commands of a run whose finite timeouts are all `duration`: requests with timeouts of one
 * duration share one timer, whose list is in request order, so the order in which simultaneous
 * expiries are processed is known (other orders are the cancellation suite's business).
 */
function commandsFor(duration: number) {
  const timeoutArb = fc.constantFrom<number>(0, duration, duration, Number.POSITIVE_INFINITY);
  const variantArb: fc.Arbitrary<Variant> = fc.oneof(
    { weight: 3, arbitrary: fc.constant<Variant>({ kind: 'plain' }) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom<0 | 1 | 'own'>(0, 1, 'own'), fc.option(timeoutArb, { nil: undefined }))
        .map(([controller, timeout]): Variant => ({ kind: 'signal', controller, timeout })),
    },
    { weight: 2, arbitrary: timeoutArb.map((timeout): Variant => ({ kind: 'timeout', timeout })) },
    { weight: 1, arbitrary: fc.constant<Variant>({ kind: 'ifAvailable' }) },
    { weight: 1, arbitrary: fc.constant<Variant>({ kind: 'steal' }) },
  );
  const requestArb = fc
    .tuple(nameArb, modeArb, variantArb)
    .map(([name, mode, variant]) => new RequestCommand(name, mode, variant));
  return fc.commands(
    [
      requestArb,
      requestArb,
      requestArb,
      fc.nat(10).map((pick) => new ReleaseCommand(pick)),
      fc.nat(10).map((pick) => new ReleaseCommand(pick)),
      fc.nat(10).map((pick) => new ReleaseStolenCommand(pick)),
      fc.nat(4).map((pick) => new AbortCommand(pick)),
      fc.integer({ min: 0, max: 25 }).map((ms) => new AdvanceCommand(ms)),
    ],
    { maxCommands: 40, size: 'max' },
  );
}
const commandsArb = fc.constantFrom(1, 5, 20).chain(commandsFor);

/** Ends the run: releases every hold (stolen ones too) until nothing waits, then checks nothing is left. */
async function finish(world: World): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    const live = NAMES.flatMap((name) => holdsOf(world, name));
    if (live.length > 0) await new ReleaseCommand(0).run(world);
    else if (waiting(world) > 0) throw new Error('model bug: a request waits while nothing is held');
    else break;
  }
  for (const request of world.requests) {
    if (request.expected?.outcome === 'stolen' && !request.expected.settled)
      await new ReleaseStolenCommand(0).run(world);
  }
  await verify(world);
  vi.advanceTimersByTime(1);
  expect(world.manager.waiterCount).toBe(0);
  expect(await world.manager.query()).toEqual({ held: [], pending: [] });
  expect(String(world.manager)).toBe('LockManager "model" [held:0, waiters:0]');
  expect(vi.getTimerCount()).toBe(0);
  for (const controller of world.controllers) expect(abortListeners(controller.signal)).toBe(0);
  for (const request of world.requests) expect(request.tracked.status, request.label).not.toBe('pending');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LockManager model', () => {
  it('matches the model for random requests, releases, steals, aborts and time steps, and leaves nothing', async () => {
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
      { numRuns: 500 },
    );
  }, 120_000);
});
