/**
 * Race schedules for Queue, LifoQueue and PriorityQueue: after a start of calls made in order
 * (mostly puts: a full queue and producers waiting), put, get and join (with an own or a
 * shared signal, a timeout or `timeout: 0`), putNowait, getNowait, consumers' taskDone (each item
 * got is marked done at a moment the scheduler picks), extra taskDone calls, shutdown (graceful or
 * immediate), aborts and time steps happen in an order fast-check's scheduler picks, under fake
 * timers, on a bounded or unbounded queue. After every step the queue is checked against a model
 * of a few arrays: `size`, `waiterCount`, `isEmpty()`, `isFull()`, `isShutDown()`, and the exact
 * outcome of every call (which item each get receives, in the kind's order; which error each
 * refused call throws). Independently of the model: no item is received twice, and every item
 * accepted is received, still held, or was discarded by an immediate shutdown. The run ends with
 * `shutdown(true)`: every wait settles, and nothing is left (no waiter, no fake timer, no
 * abort listener).
 *
 * Timed waits of one run share one duration (see permits.races.test.ts).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LifoQueue, PriorityQueue, Queue, QueueEmptyError, QueueFullError, QueueShutDownError } from '../src/index.js';
import { abortListeners, type Tracked, track } from './helpers.js';
import { expectOutcome, Race } from './races.js';

type Kind = 'Queue' | 'LifoQueue' | 'PriorityQueue';
type SignalChoice = 'none' | 'own' | 0 | 1;
type TimeoutChoice = 'none' | 'zero' | 'timed';

type Action =
  | {
      readonly type: 'put' | 'get' | 'join';
      readonly signal: SignalChoice;
      readonly timeout: TimeoutChoice;
    }
  | { readonly type: 'putNowait' | 'getNowait' | 'taskDone' }
  | { readonly type: 'shutdown'; readonly immediate: boolean }
  | { readonly type: 'abort'; readonly target: number }
  | { readonly type: 'advance'; readonly ms: number };

const waitArb = (...types: Array<'put' | 'get' | 'join'>): fc.Arbitrary<Action> =>
  fc.record({
    type: fc.constantFrom(...types),
    signal: fc.constantFrom<SignalChoice>('none', 'own', 'own', 0, 1),
    timeout: fc.constantFrom<TimeoutChoice>('none', 'timed', 'timed', 'zero'),
  });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: waitArb('put', 'put', 'get', 'get', 'join') },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('putNowait' as const, 'getNowait' as const) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'taskDone' as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('shutdown' as const), immediate: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('abort' as const), target: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3 }) }) },
);

/**
 * PriorityQueue order: by key, then insertion order (it is stable). Items are numbered in the
 * order they are put, and two in a row share a key (0 0 1 1 0 0 1 1 ...): equal keys are common,
 * and a later item often comes out first.
 */
const key = (item: number) => Math.floor(item / 2) % 2;

type Expected =
  | { readonly outcome: 'value'; readonly value: unknown }
  | { readonly outcome: 'reason'; readonly reason: unknown }
  | { readonly outcome: 'shutDown' }
  | { readonly outcome: 'timeout' }
  | undefined;

interface Wait {
  readonly label: string;
  readonly type: 'put' | 'get' | 'join';
  /** The item a put puts. */
  readonly item: number;
  readonly signal: AbortSignal | undefined;
  readonly own: AbortController | undefined;
  readonly start: number;
  readonly timed: boolean;
  tracked: Tracked<unknown> | undefined;
  expected: Expected;
}

async function race(
  s: fc.Scheduler,
  kind: Kind,
  maxSize: number,
  ms: number,
  prefix: readonly Action[],
  actions: readonly Action[],
) {
  const options = { maxSize, name: 'race' };
  const queue =
    kind === 'Queue'
      ? new Queue<number>(options)
      : kind === 'LifoQueue'
        ? new LifoQueue<number>(options)
        : new PriorityQueue<number>({ ...options, compare: (a, b) => key(a) - key(b) });
  const r = new Race(s);
  const shared = [new AbortController(), new AbortController()];
  const waits: Wait[] = [];
  /** Model: items held, in insertion order; the waiting getters, putters and joiners; the count of unfinished items. */
  let items: number[] = [];
  const getters: Wait[] = [];
  const putters: Wait[] = [];
  const joiners: Wait[] = [];
  let unfinished = 0;
  let shut = false;
  let now = 0;
  let nextItem = 0;
  /** Items accepted by the queue (a put fulfilled, a putNowait returned), seen from outside; received by gets; discarded. */
  const accepted: number[] = [];
  const received: number[] = [];
  const discarded: number[] = [];

  const room = () => maxSize === 0 || items.length < maxSize;
  /** The item the next get takes, by the kind's order. */
  const takeNext = (): number => {
    let index = 0;
    if (kind === 'LifoQueue') index = items.length - 1;
    if (kind === 'PriorityQueue') {
      items.forEach((item, i) => {
        if (key(item) < key(items[index] as number)) index = i;
      });
    }
    const [item] = items.splice(index, 1);
    // A slot is free: the first waiting producer's item goes in.
    const putter = putters.shift();
    if (putter !== undefined) {
      items.push(putter.item);
      unfinished++;
      putter.expected = { outcome: 'value', value: undefined };
    }
    return item as number;
  };
  /** A put's item: to the first waiting consumer, else into the queue; false if there is no room. */
  const store = (item: number): boolean => {
    const getter = getters.shift();
    if (getter !== undefined) getter.expected = { outcome: 'value', value: item };
    else if (room()) items.push(item);
    else return false;
    unfinished++;
    return true;
  };
  const finish = (n: number) => {
    unfinished = Math.max(0, unfinished - n);
    if (unfinished === 0) {
      for (const j of joiners.splice(0)) j.expected = { outcome: 'value', value: undefined };
    }
  };

  r.checkNow = () => {
    expect(queue.size, 'size').toBe(items.length);
    expect(queue.waiterCount, 'waiterCount').toBe(getters.length + putters.length + joiners.length);
    expect(queue.isEmpty(), 'isEmpty()').toBe(items.length === 0);
    expect(queue.isFull(), 'isFull()').toBe(!room());
    expect(queue.isShutDown(), 'isShutDown()').toBe(shut);
  };
  r.check = () => {
    r.checkNow();
    for (const w of waits) {
      const tracked = w.tracked as Tracked<unknown>;
      const { expected, label } = w;
      if (expected?.outcome === 'shutDown')
        expectOutcome(tracked, { outcome: 'error', type: QueueShutDownError }, label);
      else if (expected?.outcome === 'timeout') {
        expectOutcome(tracked, { outcome: 'error', type: DOMException, name: 'TimeoutError' }, label);
      } else expectOutcome(tracked, expected, label);
    }
    // Independent of the model: nothing received twice, nothing lost.
    expect(new Set(received).size, 'an item received twice').toBe(received.length);
    for (const item of received) expect(accepted, `${item} received, never accepted`).toContain(item);
    expect(received.length + queue.size + discarded.length, 'items accounted for').toBe(accepted.length);
  };

  const optionsOf = (w: Wait, timeout: TimeoutChoice) => ({
    ...(w.signal === undefined ? {} : { signal: w.signal }),
    ...(timeout === 'none' ? {} : { timeout: timeout === 'zero' ? 0 : ms }),
  });
  const taskDone = (label: string) => {
    if (unfinished <= 0) {
      expect(() => queue.taskDone(), label).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    } else {
      queue.taskDone();
      finish(1);
    }
  };
  /** A consumer got `item`: it marks it done later. */
  const got = (item: number) => {
    received.push(item);
    r.later(`taskDone ${item}`, () => taskDone(`taskDone ${item}`));
  };

  const wait = (type: Wait['type'], choice: SignalChoice, timeout: TimeoutChoice) => {
    const own = choice === 'own' ? new AbortController() : undefined;
    let signal = own?.signal ?? (typeof choice === 'number' ? shared[choice]?.signal : undefined);
    // Which error wins, an aborted signal's or the shut-down queue's, is not part of the contract.
    if (shut && signal?.aborted) signal = undefined;
    const w: Wait = {
      label: `${type} ${waits.length}`,
      type,
      item: type === 'put' ? nextItem++ : -1,
      own,
      signal,
      start: now,
      timed: timeout === 'timed',
      tracked: undefined,
      expected: undefined,
    };
    waits.push(w);
    // The model.
    if (signal?.aborted) w.expected = { outcome: 'reason', reason: signal.reason };
    else if (type === 'put') {
      if (shut) w.expected = { outcome: 'shutDown' };
      else if (store(w.item)) w.expected = { outcome: 'value', value: undefined };
      else if (timeout === 'zero') w.expected = { outcome: 'timeout' };
      else putters.push(w);
    } else if (type === 'get') {
      if (items.length > 0) w.expected = { outcome: 'value', value: takeNext() };
      else if (shut) w.expected = { outcome: 'shutDown' };
      else if (timeout === 'zero') w.expected = { outcome: 'timeout' };
      else getters.push(w);
    } else if (unfinished === 0) w.expected = { outcome: 'value', value: undefined };
    else if (timeout === 'zero') w.expected = { outcome: 'timeout' };
    else joiners.push(w);
    // The call.
    const options = optionsOf(w, timeout);
    if (type === 'put') {
      const promise = queue.put(w.item, options);
      w.tracked = track(promise);
      promise.then(
        () => accepted.push(w.item),
        () => {},
      );
    } else if (type === 'get') {
      const promise = queue.get(options);
      w.tracked = track(promise);
      promise.then(got, () => {});
    } else {
      w.tracked = track(queue.join(options));
    }
  };

  const perform = (action: Action) => {
    switch (action.type) {
      case 'put':
      case 'get':
      case 'join':
        wait(action.type, action.signal, action.timeout);
        return;
      case 'putNowait': {
        const item = nextItem++;
        if (shut) expect(() => queue.putNowait(item)).toThrow(QueueShutDownError);
        else if (!store(item)) expect(() => queue.putNowait(item)).toThrow(QueueFullError);
        else {
          queue.putNowait(item);
          accepted.push(item);
        }
        return;
      }
      case 'getNowait': {
        if (items.length > 0) {
          const item = takeNext();
          expect(queue.getNowait(), 'getNowait()').toBe(item);
          got(item);
        } else {
          expect(() => queue.getNowait()).toThrow(shut ? QueueShutDownError : QueueEmptyError);
        }
        return;
      }
      case 'taskDone':
        taskDone('extra taskDone');
        return;
      case 'shutdown': {
        shut = true;
        if (action.immediate) {
          discarded.push(...items);
          const n = items.length;
          items = [];
          finish(n);
        }
        for (const w of [...putters.splice(0), ...getters.splice(0)]) w.expected = { outcome: 'shutDown' };
        queue.shutdown(action.immediate);
        return;
      }
      case 'abort': {
        // An own signal of a wait that still waits (the model's choice of target, not a check).
        const owned = waits.filter(
          (w) => w.own !== undefined && !w.own.signal.aborted && [getters, putters, joiners].some((l) => l.includes(w)),
        );
        const controller =
          action.target < 2 ? shared[action.target] : owned[(action.target - 2) % Math.max(owned.length, 1)]?.own;
        if (controller === undefined || controller.signal.aborted) return;
        const reason = { aborted: action.target };
        for (const list of [getters, putters, joiners]) {
          for (const w of list.filter((w) => w.signal === controller.signal)) {
            list.splice(list.indexOf(w), 1);
            w.expected = { outcome: 'reason', reason };
          }
        }
        controller.abort(reason);
        return;
      }
      case 'advance': {
        for (let i = 0; i < action.ms; i++) {
          vi.advanceTimersByTime(1);
          now++;
          for (const list of [getters, putters, joiners]) {
            for (const w of list.filter((w) => w.timed && w.start + ms <= now)) {
              list.splice(list.indexOf(w), 1);
              w.expected = { outcome: 'timeout' };
            }
          }
          r.checkNow();
        }
        return;
      }
    }
  };

  await r.run(prefix, actions, perform);
  r.step('shutdown(true)', () => perform({ type: 'shutdown', immediate: true }));
  await r.settle();

  r.check();
  expect(unfinished).toBe(0);
  expect(waits.every((w) => w.expected !== undefined && w.tracked?.status !== 'pending')).toBe(true);
  vi.advanceTimersByTime(1);
  expect(queue.waiterCount).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  for (const signal of [...shared, ...waits.map((w) => w.own)]) {
    if (signal !== undefined) expect(abortListeners(signal.signal)).toBe(0);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Queue, LifoQueue and PriorityQueue races', () => {
  it.each(['Queue', 'LifoQueue', 'PriorityQueue'] as const)(
    '%s: puts, gets, joins, taskDone, shutdowns, aborts and timeouts in any order follow the model',
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.constantFrom(0, 1, 1, 2),
          fc.integer({ min: 1, max: 3 }),
          // A start that fills the queue and lines up producers (and consumers, and joiners).
          fc.array(waitArb('put', 'put', 'put', 'get', 'join'), { maxLength: 6 }),
          fc.array(actionArb, { minLength: 1, maxLength: 12 }),
          async (s, maxSize, ms, prefix, actions) => {
            vi.useFakeTimers();
            try {
              await race(s, kind, maxSize, ms, prefix, actions);
            } finally {
              vi.useRealTimers();
            }
          },
        ),
        { numRuns: 40 },
      );
    },
    30_000,
  );
});
