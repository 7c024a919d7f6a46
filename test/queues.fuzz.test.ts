/**
 * Fuzzed arguments for Queue, LifoQueue and PriorityQueue (test/fuzz.ts says what is checked).
 * A call that fails must also leave the items as they were: after it, the queue is drained and
 * compared with what the setup put.
 */

import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LifoQueue, PriorityQueue, Queue } from '../src/index.js';
import { snapshot, trackWaiters } from '../src/inspect/index.js';
import {
  abortOf,
  anything,
  assertAsync,
  assertSync,
  booleanArb,
  booleanProblems,
  checkAsync,
  checkSync,
  fnArb,
  functionProblems,
  integerProblems,
  materialize,
  numberArb,
  numbers,
  optionsArb,
  optionsProblems,
  PRIMITIVE_CHECKS,
  PRIMITIVE_FIELDS,
  type Problem,
  peek,
  signalsIn,
  timeoutZero,
  WAIT_CHECKS,
  WAIT_FIELDS,
} from './fuzz.js';
import { flushMicrotasks, type Tracked, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

type Kind = 'Queue' | 'LifoQueue' | 'PriorityQueue';
const kinds = fc.constantFrom<Kind>('Queue', 'LifoQueue', 'PriorityQueue');

describe('constructors', () => {
  let stopTracking: () => void = () => {};
  beforeAll(() => {
    stopTracking = trackWaiters();
  });
  afterAll(() => stopTracking());

  it.each(['Queue', 'LifoQueue', 'PriorityQueue'] as const)('new %s(options)', (kind) => {
    // `maxSize`: an integer >= 0, 0 or absent for unbounded; PriorityQueue also knows `compare`, a function.
    const fields = { ...PRIMITIVE_FIELDS, maxSize: numberArb, ...(kind === 'PriorityQueue' ? { compare: fnArb } : {}) };
    const checks = {
      ...PRIMITIVE_CHECKS,
      maxSize: (v: unknown) => integerProblems(v, '"maxSize"', 0, Infinity, true),
      ...(kind === 'PriorityQueue' ? { compare: (v: unknown) => functionProblems(v, '"compare"', true) } : {}),
    };
    const make = { Queue, LifoQueue, PriorityQueue }[kind];
    assertSync([optionsArb(fields, { hostile: true })], (o) => {
      const options = materialize(o);
      checkSync({
        call: () => new make(options as never),
        problems: optionsProblems(options, checks),
        state: () => snapshot().primitives,
        succeeded: (queue) => {
          expect(queue.maxSize).toBe(peek(options, 'maxSize') ?? 0);
          expect(queue.size).toBe(0);
        },
      });
    });
  });
});

/**
 * A queue of `kind` in a state: empty, holding items, full (a bound of 2), empty with a consumer
 * waiting, shut down with an item, shut down and empty. The items are numbers or strings (a
 * PriorityQueue without `compare` orders one type or the other).
 */
type State = 'empty' | 'items' | 'full' | 'consumer' | 'shut' | 'shut empty';
const states = fc.constantFrom<State>('empty', 'items', 'full', 'consumer', 'shut', 'shut empty');

interface Subject {
  readonly queue: Queue<unknown>;
  /** The items in the order the queue hands them out. */
  readonly items: unknown[];
  readonly consumer: Tracked<unknown> | undefined;
}

function setup(kind: Kind, state: State, strings: boolean): Subject {
  const make = { Queue, LifoQueue, PriorityQueue }[kind];
  const queue = new make<unknown>(state === 'full' ? { maxSize: 2 } : { maxSize: 5 });
  const put = strings ? ['b', 'a'] : [2, 1];
  const held = state === 'items' || state === 'full' ? put : state === 'shut' ? put.slice(0, 1) : [];
  for (const item of held) queue.putNowait(item);
  const consumer = state === 'consumer' ? track(queue.get()) : undefined;
  if (state === 'shut' || state === 'shut empty') queue.shutdown();
  const items = kind === 'Queue' ? [...held] : kind === 'LifoQueue' ? [...held].reverse() : [...held].sort();
  return { queue, items, consumer };
}

/** The readable state: `String(queue)` shows the size, the bound, the waiters and shut down. */
const stateOf = (queue: Queue<unknown>) => [String(queue), queue.isShutDown(), queue.isFull(), queue.isEmpty()];

/** Drains the queue and checks that it held `items`, in order: a failed call put or took nothing. */
function expectItems(queue: Queue<unknown>, items: unknown[]): void {
  const got: unknown[] = [];
  while (!queue.isEmpty()) got.push(queue.getNowait());
  expect(got).toEqual(items);
}

/**
 * README: a PriorityQueue without `compare` orders numbers (not NaN) or strings, not both: any
 * other item, or one of the other type than the items held, is a TypeError that leaves the
 * queue as it was. Any item is valid for the other queues.
 */
function itemProblems(kind: Kind, item: unknown, subject: Subject, strings: boolean): Problem[] {
  if (kind !== 'PriorityQueue') return [];
  const type = subject.queue.size > 0 ? (strings ? 'string' : 'number') : typeof item;
  if ((typeof item === 'string' || (typeof item === 'number' && !Number.isNaN(item))) && typeof item === type)
    return [];
  return [{ kind: 'TypeError', names: '"item"' }];
}

/** Items: anything, numbers, strings. */
const itemArb = fc.oneof(anything, numbers, fc.string({ maxLength: 3 }));

const shutDown: Problem = { kind: 'QueueShutDownError' };

it('put(item, options)', async () => {
  await assertAsync(
    [kinds, states, fc.boolean(), itemArb, optionsArb(WAIT_FIELDS, { hostile: true })],
    async (kind, state, strings, item, o) => {
      const subject = setup(kind, state, strings);
      const { queue } = subject;
      const options = materialize(o);
      const outcome = await checkAsync({
        call: () => queue.put(item, options as never),
        problems: [...itemProblems(kind, item, subject, strings), ...optionsProblems(options, WAIT_CHECKS)],
        otherwise: abortOf(options) ?? (queue.isShutDown() ? shutDown : undefined),
        timeoutZero: timeoutZero(options),
        state: () => stateOf(queue),
        signals: signalsIn(options),
        // Full: a get takes an item and lets the put in.
        settle: () => {
          subject.items.shift();
          queue.getNowait();
        },
      });
      if (outcome.status === 'rejected') expectItems(queue, subject.items);
      // A consumer that waited got the item, or still waits.
      if (subject.consumer !== undefined && outcome.status === 'fulfilled') {
        expect(subject.consumer.status).toBe('fulfilled');
        expect(subject.consumer.value).toBe(item);
      }
    },
  );
});

it('putNowait(item)', async () => {
  await assertAsync([kinds, states, fc.boolean(), itemArb], async (kind, state, strings, item) => {
    const subject = setup(kind, state, strings);
    const { queue } = subject;
    let threw = true;
    checkSync({
      call: () => {
        queue.putNowait(item);
        threw = false;
      },
      problems: itemProblems(kind, item, subject, strings),
      otherwise: queue.isShutDown() ? shutDown : queue.isFull() ? { kind: 'QueueFullError' } : undefined,
      state: () => stateOf(queue),
    });
    await flushMicrotasks();
    if (threw) expectItems(queue, subject.items);
    if (subject.consumer !== undefined && !threw) expect(subject.consumer.value).toBe(item);
  });
});

it('get(options)', async () => {
  await assertAsync(
    [kinds, states, fc.boolean(), optionsArb(WAIT_FIELDS, { hostile: true })],
    async (kind, state, strings, o) => {
      const subject = setup(kind, state, strings);
      const { queue } = subject;
      const options = materialize(o);
      const outcome = await checkAsync({
        call: () => queue.get(options as never),
        problems: optionsProblems(options, WAIT_CHECKS),
        otherwise: abortOf(options) ?? (state === 'shut empty' ? shutDown : undefined),
        timeoutZero: timeoutZero(options),
        state: () => stateOf(queue),
        signals: signalsIn(options),
        // Empty: an item comes (after the consumer of the setup, if there is one).
        settle: async (pending) => {
          for (let i = 0; i < 2 && pending.status === 'pending'; i++) {
            queue.putNowait(strings ? 'c' : 3);
            await flushMicrotasks();
          }
        },
        settled: (settled) => {
          expect(settled.status).toBe('fulfilled');
          if (subject.items.length > 0) expect(settled.value).toBe(subject.items[0]);
        },
      });
      if (outcome.status === 'rejected') expectItems(queue, subject.items);
    },
  );
});

it('join(options)', async () => {
  type JoinState = 'idle' | 'unfinished' | 'shut';
  await assertAsync(
    [kinds, fc.constantFrom<JoinState>('idle', 'unfinished', 'shut'), optionsArb(WAIT_FIELDS, { hostile: true })],
    async (kind, state, o) => {
      const queue = setup(kind, state === 'shut' ? 'shut' : state === 'unfinished' ? 'items' : 'empty', false).queue;
      const options = materialize(o);
      await checkAsync({
        call: () => queue.join(options as never),
        problems: optionsProblems(options, WAIT_CHECKS),
        otherwise: abortOf(options),
        timeoutZero: timeoutZero(options),
        state: () => stateOf(queue),
        signals: signalsIn(options),
        // Every item taken and processed.
        settle: () => {
          while (!queue.isEmpty()) {
            queue.getNowait();
            queue.taskDone();
          }
        },
      });
    },
  );
});

it('shutdown(immediate)', async () => {
  await assertAsync([kinds, states, fc.boolean(), booleanArb], async (kind, state, strings, immediate) => {
    const subject = setup(kind, state, strings);
    const { queue } = subject;
    // `immediate`: a boolean or absent; anything else (`'false'`, `0`) is a TypeError naming it.
    const problems = booleanProblems(immediate, '"immediate"');
    checkSync({
      call: () => queue.shutdown(immediate as never),
      problems,
      state: () => stateOf(queue),
      succeeded: () => expect(queue.isShutDown()).toBe(true),
    });
    await flushMicrotasks();
    if (problems.length > 0) {
      expect(subject.consumer?.status ?? 'pending').toBe('pending');
      expectItems(queue, subject.items);
    } else {
      expect(subject.consumer?.status ?? 'rejected').toBe('rejected');
      expectItems(queue, immediate === true ? [] : subject.items);
    }
  });
});
