/**
 * Model test for Queue, LifoQueue and PriorityQueue: random sequences of put, putNowait, get,
 * getNowait, taskDone, join and shutdown (plain or immediate), with random signals, aborts,
 * timeouts and time steps under fake timers, checked after every step against a few arrays:
 * `size`, `waiterCount`, the readable state and every outcome (which item each get receives, in
 * the kind's order: FIFO, LIFO, or by priority and then insertion order). At the end: every item
 * put successfully was got exactly once or discarded by an immediate shutdown, and nothing is
 * left (no waiter, no fake timer, no abort listener).
 *
 * Then PriorityQueue's stability as properties of its own.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LifoQueue, PriorityQueue, Queue, QueueEmptyError, QueueFullError, QueueShutDownError } from '../src/index.js';
import { abortListeners, expectTimeoutError, flushMicrotasks, type Tracked, track } from './helpers.js';

type Kind = 'Queue' | 'LifoQueue' | 'PriorityQueue';
type SignalChoice = 'none' | 'own' | 0 | 1;

/** An item: `key` orders a PriorityQueue; `id` tells items apart. */
interface Item {
  readonly key: number;
  readonly id: number;
}

const byKey = (a: Item, b: Item): number => a.key - b.key;

interface Stored {
  readonly item: Item;
  /** When it went into the store: ties between equal keys go to the earlier one. */
  readonly seq: number;
}

type Expected =
  | { outcome: 'fulfilled'; value: Item | undefined }
  | { outcome: 'reason'; reason: unknown }
  | { outcome: 'timeout' }
  | { outcome: 'shutdown' };

interface ModelWait {
  readonly label: string;
  readonly method: 'get' | 'put' | 'join';
  readonly tracked: Tracked<unknown>;
  readonly controller: number | undefined;
  readonly deadline: number;
  /** The item of a put. */
  readonly item: Item | undefined;
  expected: Expected | undefined;
}

interface World {
  readonly kind: Kind;
  readonly maxSize: number;
  readonly queue: Queue<Item>;
  readonly controllers: AbortController[];
  readonly aborted: boolean[];
  readonly waits: ModelWait[];
  /** Model: the items in the queue, in the order they went in. */
  items: Stored[];
  seq: number;
  /** Model: pending waits, oldest first. */
  getters: ModelWait[];
  putters: ModelWait[];
  joiners: ModelWait[];
  unfinished: number;
  shutDown: boolean;
  now: number;
  nextId: number;
  /** From the real outcomes: ids of items put successfully, and of items got. */
  readonly putIds: number[];
  readonly gotIds: number[];
  /** Model: ids discarded by an immediate shutdown. */
  readonly discardedIds: number[];
}

function createWorld(kind: Kind, maxSize: number): World {
  const options = { maxSize, name: 'model', maxWaiters: 0 };
  const queue =
    kind === 'Queue'
      ? new Queue<Item>(options)
      : kind === 'LifoQueue'
        ? new LifoQueue<Item>(options)
        : new PriorityQueue<Item>({ ...options, compare: byKey });
  const controllers = [new AbortController(), new AbortController()];
  return {
    kind,
    maxSize,
    queue,
    controllers,
    aborted: controllers.map(() => false),
    waits: [],
    items: [],
    seq: 0,
    getters: [],
    putters: [],
    joiners: [],
    unfinished: 0,
    shutDown: false,
    now: 0,
    nextId: 0,
    putIds: [],
    gotIds: [],
    discardedIds: [],
  };
}

// ---------------------------------------------------------------------------------------------
// The model

function modelPush(world: World, item: Item): void {
  world.items.push({ item, seq: world.seq++ });
}

/** The index of the item the kind hands out next (there is one). */
function nextIndex(world: World): number {
  const { items } = world;
  if (world.kind === 'Queue') return 0;
  if (world.kind === 'LifoQueue') return items.length - 1;
  let best = 0;
  for (let i = 1; i < items.length; i++) {
    const a = items[i] as Stored;
    const b = items[best] as Stored;
    if (a.item.key < b.item.key || (a.item.key === b.item.key && a.seq < b.seq)) best = i;
  }
  return best;
}

/** A get with items there: takes the next one, and takes the first waiting putter's item in. */
function modelTake(world: World): Item {
  const [taken] = world.items.splice(nextIndex(world), 1) as [Stored];
  const putter = world.putters.shift();
  if (putter !== undefined) {
    modelPush(world, putter.item as Item);
    world.unfinished++;
    putter.expected = { outcome: 'fulfilled', value: undefined };
  }
  return taken.item;
}

/** A put that is allowed (not shut down): hands off, stores, or reports the queue full. */
function modelPut(world: World, item: Item): 'done' | 'full' {
  const getter = world.getters.shift();
  if (getter !== undefined) {
    getter.expected = { outcome: 'fulfilled', value: item };
  } else if (world.maxSize === 0 || world.items.length < world.maxSize) {
    modelPush(world, item);
  } else {
    return 'full';
  }
  world.unfinished++;
  return 'done';
}

function releaseJoinersAtZero(world: World): void {
  if (world.unfinished !== 0) return;
  for (const joiner of world.joiners) joiner.expected = { outcome: 'fulfilled', value: undefined };
  world.joiners = [];
}

function modelShutdown(world: World, immediate: boolean): void {
  world.shutDown = true;
  if (immediate) {
    for (const stored of world.items) world.discardedIds.push(stored.item.id);
    world.unfinished = Math.max(0, world.unfinished - world.items.length);
    world.items = [];
    releaseJoinersAtZero(world);
  }
  for (const wait of [...world.putters, ...world.getters]) wait.expected = { outcome: 'shutdown' };
  world.putters = [];
  world.getters = [];
}

// ---------------------------------------------------------------------------------------------
// Checks

function expectedState(world: World): string {
  const bound = world.maxSize === 0 ? '∞' : String(world.maxSize);
  const waiters = world.getters.length + world.putters.length + world.joiners.length;
  return `${world.kind} "model" [size:${world.items.length}/${bound}, waiters:${waiters}${world.shutDown ? ', shut down' : ''}]`;
}

/** The synchronous invariants: they hold right after every call, before any microtask. */
function verifyNow(world: World): void {
  const { queue } = world;
  const full = world.maxSize > 0 && world.items.length >= world.maxSize;
  expect(queue.size).toBe(world.items.length);
  expect(queue.waiterCount).toBe(world.getters.length + world.putters.length + world.joiners.length);
  expect(queue.isEmpty()).toBe(world.items.length === 0);
  expect(queue.isFull()).toBe(full);
  expect(queue.isShutDown()).toBe(world.shutDown);
  expect(String(queue)).toBe(expectedState(world));
  // Hand-off: an item and a getter never wait at the same time, nor a free slot and a putter.
  if (world.getters.length > 0) expect(world.items.length).toBe(0);
  if (world.putters.length > 0) expect(full).toBe(true);
}

function checkSettled(world: World, wait: ModelWait, expected: Expected): void {
  const { tracked, label } = wait;
  expect(tracked.settlements, label).toBe(1);
  if (expected.outcome === 'fulfilled') {
    expect(tracked.status, label).toBe('fulfilled');
    expect(tracked.value, label).toBe(expected.value);
  } else if (expected.outcome === 'reason') {
    expect(tracked.status, label).toBe('rejected');
    expect(tracked.reason, label).toBe(expected.reason);
  } else if (expected.outcome === 'timeout') {
    expect(tracked.status, label).toBe('rejected');
    expectTimeoutError(tracked.reason);
    expect(tracked.reason.message, label).toContain(`${world.kind} "model"`);
    expect(tracked.reason.message, label).toContain(`${wait.method}()`);
  } else {
    expect(tracked.status, label).toBe('rejected');
    expect(tracked.reason, label).toBeInstanceOf(QueueShutDownError);
  }
}

async function verify(world: World): Promise<void> {
  verifyNow(world);
  await flushMicrotasks();
  for (const wait of world.waits) {
    if (wait.expected === undefined) expect(wait.tracked.status, wait.label).toBe('pending');
    else checkSettled(world, wait, wait.expected);
  }
}

function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Commands

type Command = fc.AsyncCommand<World, World>;

/** Resolves a signal choice to a controller index (making a fresh one for 'own') and options. */
function waitOptions(
  world: World,
  signal: SignalChoice,
  timeout: number | undefined,
): { controller: number | undefined; options: { signal?: AbortSignal; timeout?: number } } {
  let controller: number | undefined;
  if (signal === 'own') {
    controller = world.controllers.length;
    world.controllers.push(new AbortController());
    world.aborted.push(false);
  } else if (signal !== 'none') {
    controller = signal;
  }
  const options: { signal?: AbortSignal; timeout?: number } = {};
  if (controller !== undefined) options.signal = (world.controllers[controller] as AbortController).signal;
  if (timeout !== undefined) options.timeout = timeout;
  return { controller, options };
}

/** Starts a wait and records it; returns it with its outcome still to be decided by the model. */
function startWait(
  world: World,
  method: ModelWait['method'],
  signal: SignalChoice,
  timeout: number | undefined,
  item: Item | undefined,
  call: (options: { signal?: AbortSignal; timeout?: number }) => Promise<unknown>,
): ModelWait {
  const { controller, options } = waitOptions(world, signal, timeout);
  const label = `${method} #${world.waits.length}${item === undefined ? '' : ` of item ${item.id}`} (signal: ${signal}, timeout: ${timeout}) at ${world.now}`;
  const promise = call(options);
  const tracked = track(promise);
  promise.then(
    (value) => {
      if (method === 'put') world.putIds.push((item as Item).id);
      if (method === 'get') world.gotIds.push((value as Item).id);
    },
    () => {},
  );
  const wait: ModelWait = {
    label,
    method,
    tracked,
    controller,
    deadline: world.now + (timeout ?? Number.POSITIVE_INFINITY),
    item,
    expected: undefined,
  };
  world.waits.push(wait);
  return wait;
}

function isAborted(world: World, wait: ModelWait): boolean {
  return wait.controller !== undefined && (world.aborted[wait.controller] as boolean);
}

function abortReason(world: World, wait: ModelWait): Expected {
  return { outcome: 'reason', reason: world.controllers[wait.controller as number]?.signal.reason };
}

class PutCommand implements Command {
  constructor(
    readonly key: number,
    readonly signal: SignalChoice,
    readonly timeout: number | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const item: Item = { key: this.key, id: world.nextId++ };
    const wait = startWait(world, 'put', this.signal, this.timeout, item, (o) => world.queue.put(item, o));
    if (isAborted(world, wait)) wait.expected = abortReason(world, wait);
    else if (world.shutDown) wait.expected = { outcome: 'shutdown' };
    else if (modelPut(world, item) === 'done') wait.expected = { outcome: 'fulfilled', value: undefined };
    else if (this.timeout === 0) wait.expected = { outcome: 'timeout' };
    else world.putters.push(wait);
    await verify(world);
  }
  toString(): string {
    return `put(key ${this.key}, signal: ${this.signal}, timeout: ${this.timeout})`;
  }
}

class GetCommand implements Command {
  constructor(
    readonly signal: SignalChoice,
    readonly timeout: number | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const wait = startWait(world, 'get', this.signal, this.timeout, undefined, (o) => world.queue.get(o));
    if (isAborted(world, wait)) wait.expected = abortReason(world, wait);
    else if (world.items.length > 0) wait.expected = { outcome: 'fulfilled', value: modelTake(world) };
    else if (world.shutDown) wait.expected = { outcome: 'shutdown' };
    else if (this.timeout === 0) wait.expected = { outcome: 'timeout' };
    else world.getters.push(wait);
    await verify(world);
  }
  toString(): string {
    return `get(signal: ${this.signal}, timeout: ${this.timeout})`;
  }
}

class JoinCommand implements Command {
  constructor(
    readonly signal: SignalChoice,
    readonly timeout: number | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const wait = startWait(world, 'join', this.signal, this.timeout, undefined, (o) => world.queue.join(o));
    if (isAborted(world, wait)) wait.expected = abortReason(world, wait);
    else if (world.unfinished === 0) wait.expected = { outcome: 'fulfilled', value: undefined };
    else if (this.timeout === 0) wait.expected = { outcome: 'timeout' };
    else world.joiners.push(wait);
    await verify(world);
  }
  toString(): string {
    return `join(signal: ${this.signal}, timeout: ${this.timeout})`;
  }
}

class PutNowaitCommand implements Command {
  constructor(readonly key: number) {}
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const item: Item = { key: this.key, id: world.nextId++ };
    const error = thrownBy(() => world.queue.putNowait(item));
    if (world.shutDown) {
      expect(error).toBeInstanceOf(QueueShutDownError);
    } else if (modelPut(world, item) === 'done') {
      expect(error).toBeUndefined();
      world.putIds.push(item.id);
    } else {
      expect(error).toBeInstanceOf(QueueFullError);
    }
    await verify(world);
  }
  toString(): string {
    return `putNowait(key ${this.key})`;
  }
}

class GetNowaitCommand implements Command {
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    let got: Item | undefined;
    const error = thrownBy(() => {
      got = world.queue.getNowait();
    });
    if (world.items.length > 0) {
      expect(error).toBeUndefined();
      expect(got).toBe(modelTake(world));
      world.gotIds.push((got as Item).id);
    } else if (world.shutDown) {
      expect(error).toBeInstanceOf(QueueShutDownError);
    } else {
      expect(error).toBeInstanceOf(QueueEmptyError);
    }
    await verify(world);
  }
  toString(): string {
    return 'getNowait()';
  }
}

class TaskDoneCommand implements Command {
  check(): boolean {
    return true;
  }
  async run(world: World): Promise<void> {
    const error = thrownBy(() => world.queue.taskDone());
    if (world.unfinished > 0) {
      expect(error).toBeUndefined();
      world.unfinished--;
      releaseJoinersAtZero(world);
    } else {
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('InvalidStateError');
    }
    await verify(world);
  }
  toString(): string {
    return 'taskDone()';
  }
}

class ShutdownCommand implements Command {
  constructor(readonly immediate: boolean) {}
  check(world: World): boolean {
    // Not before the run has built up some state: a shutdown leaves little to explore.
    return world.waits.length >= 6;
  }
  async run(world: World): Promise<void> {
    world.queue.shutdown(this.immediate);
    modelShutdown(world, this.immediate);
    await verify(world);
  }
  toString(): string {
    return `shutdown(${this.immediate})`;
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
      const leaves = (wait: ModelWait) => {
        if (wait.controller !== index) return false;
        wait.expected = { outcome: 'reason', reason: controller.signal.reason };
        return true;
      };
      world.getters = world.getters.filter((w) => !leaves(w));
      world.putters = world.putters.filter((w) => !leaves(w));
      world.joiners = world.joiners.filter((w) => !leaves(w));
    }
    // Gone by the time abort() returns, listener included.
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
    for (const wait of [...world.getters, ...world.putters, ...world.joiners]) {
      if (wait.deadline <= end) checkpoints.add(wait.deadline - 1).add(wait.deadline);
    }
    for (const time of [...checkpoints].sort((a, b) => a - b)) {
      if (time <= world.now) continue;
      vi.advanceTimersByTime(time - world.now);
      world.now = time;
      const expires = (wait: ModelWait) => {
        if (wait.deadline > world.now) return false;
        wait.expected = { outcome: 'timeout' };
        return true;
      };
      world.getters = world.getters.filter((w) => !expires(w));
      world.putters = world.putters.filter((w) => !expires(w));
      world.joiners = world.joiners.filter((w) => !expires(w));
      await verify(world);
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

const keyArb = fc.nat(2);
const signalArb = fc.constantFrom<SignalChoice>('none', 'own', 0, 1);
const timeoutArb = fc.constantFrom<number | undefined>(undefined, 0, 1, 5, 20, Number.POSITIVE_INFINITY);
const putArb = fc.tuple(keyArb, signalArb, timeoutArb).map(([k, s, t]) => new PutCommand(k, s, t));
const getArb = fc.tuple(signalArb, timeoutArb).map(([s, t]) => new GetCommand(s, t));

const commandsArb = fc.commands(
  [
    putArb,
    putArb,
    putArb,
    keyArb.map((k) => new PutNowaitCommand(k)),
    getArb,
    getArb,
    getArb,
    fc.constant(new GetNowaitCommand()),
    fc.constant(new TaskDoneCommand()),
    fc.constant(new TaskDoneCommand()),
    fc.tuple(signalArb, timeoutArb).map(([s, t]) => new JoinCommand(s, t)),
    fc.boolean().map((immediate) => new ShutdownCommand(immediate)),
    fc.nat(4).map((pick) => new AbortCommand(pick)),
    fc.integer({ min: 0, max: 25 }).map((ms) => new AdvanceCommand(ms)),
  ],
  { maxCommands: 50, size: 'max' },
);

/**
 * Ends the run: takes every item out, finishes every task, shuts down (which ends the waits
 * still pending), then checks conservation and that nothing is left.
 */
async function finish(world: World): Promise<void> {
  while (world.items.length > 0) await new GetNowaitCommand().run(world);
  while (world.unfinished > 0) await new TaskDoneCommand().run(world);
  await new ShutdownCommand(false).run(world);
  for (const wait of world.waits) expect(wait.expected, wait.label).toBeDefined();

  // Nothing lost or duplicated: every item put was got exactly once or discarded.
  const got = [...world.gotIds].sort((a, b) => a - b);
  expect(new Set(got).size).toBe(got.length);
  const accounted = [...got, ...world.discardedIds].sort((a, b) => a - b);
  expect(accounted).toEqual([...world.putIds].sort((a, b) => a - b));

  vi.advanceTimersByTime(1);
  expect(world.queue.waiterCount).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  for (const controller of world.controllers) expect(abortListeners(controller.signal)).toBe(0);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('queue model', () => {
  it.each(['Queue', 'LifoQueue', 'PriorityQueue'] as const)(
    '%s matches the model for random puts, gets, taskDone, join, shutdowns, aborts and time steps, and loses nothing',
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(0, 1, 2, 3), commandsArb, async (maxSize, commands) => {
          vi.useFakeTimers();
          try {
            const world = createWorld(kind, maxSize);
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

describe('PriorityQueue stability', () => {
  /** Stable sort by key: Array.prototype.sort is stable. */
  const stableByKey = (items: readonly Item[]) => [...items].sort(byKey);

  it('hands out items sorted by key and, among equal keys, in insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3), { maxLength: 80 }), (keys) => {
        const queue = new PriorityQueue<Item>({ compare: byKey });
        const items = keys.map((key, id) => ({ key, id }));
        for (const item of items) queue.putNowait(item);
        const out: Item[] = [];
        while (!queue.isEmpty()) out.push(queue.getNowait());
        expect(out).toEqual(stableByKey(items));
      }),
      { numRuns: 300 },
    );
  });

  it('stays stable across interleaved puts and gets', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.nat(2), { nil: undefined }), { maxLength: 80 }), (steps) => {
        const queue = new PriorityQueue<Item>({ compare: byKey });
        const model: Item[] = [];
        steps.forEach((key, id) => {
          if (key !== undefined) {
            const item = { key, id };
            queue.putNowait(item);
            model.push(item);
          } else if (model.length > 0) {
            const expected = stableByKey(model)[0] as Item;
            model.splice(model.indexOf(expected), 1);
            expect(queue.getNowait()).toBe(expected);
          }
        });
        const out: Item[] = [];
        while (!queue.isEmpty()) out.push(queue.getNowait());
        expect(out).toEqual(stableByKey(model));
      }),
      { numRuns: 300 },
    );
  });

  it('orders numbers with < by default, equal numbers (0 and -0) in insertion order', () => {
    const lessThan = (a: number, b: number) => (a < b ? -1 : b < a ? 1 : 0);
    const show = (n: number) => (Object.is(n, -0) ? '-0' : n);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ noNaN: true })), { maxLength: 60 }),
        (items) => {
          const queue = new PriorityQueue<number>();
          for (const item of items) queue.putNowait(item);
          const out: number[] = [];
          while (!queue.isEmpty()) out.push(queue.getNowait());
          expect(out.map(show)).toEqual([...items].sort(lessThan).map(show));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('orders strings with < by default, equal strings in insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3 }), { maxLength: 60 }), (items) => {
        const queue = new PriorityQueue<string>();
        for (const item of items) queue.putNowait(item);
        const out: string[] = [];
        while (!queue.isEmpty()) out.push(queue.getNowait());
        expect(out).toEqual([...items].sort((a, b) => (a < b ? -1 : b < a ? 1 : 0)));
      }),
      { numRuns: 300 },
    );
  });
});
