/**
 * How the queues store their items (README: `new Queue(options?)`, `PriorityQueue`): order and
 * size across the FIFO store's compaction, the exact words of PriorityQueue's refusal, and what
 * a user's `compare` is called with. The memory side (a drained queue lets its storage go) is in
 * `queue-memory.node.test.ts`.
 */

import { describe, expect, it } from 'vitest';
import { PriorityQueue, Queue } from '../src/index.js';

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  return expect.unreachable('expected a throw');
}

describe('Queue: order and size over many items', () => {
  // The FIFO store consumes its array from a moving head and moves the rest to the front once
  // the head is past 1,024 slots and past half the array: these runs go through that several
  // times, with items still stored.
  it('hands out 5,000 items in order, with its size right after every get', () => {
    const queue = new Queue<number>();
    for (let i = 0; i < 5000; i++) queue.putNowait(i);
    for (let i = 0; i < 5000; i++) {
      expect(queue.getNowait()).toBe(i);
      expect(queue.size).toBe(4999 - i);
    }
    expect(queue.isEmpty()).toBe(true);
  });

  it('keeps order and size when puts and gets interleave past the compaction point', () => {
    const queue = new Queue<number>();
    let nextIn = 0;
    let nextOut = 0;
    // Rounds of 3,000 in, 2,000 out: the store is never empty, its head keeps passing 1,024.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3000; i++) queue.putNowait(nextIn++);
      for (let i = 0; i < 2000; i++) {
        expect(queue.getNowait()).toBe(nextOut++);
        expect(queue.size).toBe(nextIn - nextOut);
      }
    }
    while (!queue.isEmpty()) expect(queue.getNowait()).toBe(nextOut++);
    expect(nextOut).toBe(nextIn);
    // Empty again: it starts over and keeps order.
    for (let i = 0; i < 3; i++) queue.putNowait(i);
    expect([queue.getNowait(), queue.getNowait(), queue.getNowait()]).toEqual([0, 1, 2]);
  });

  it('keeps order when one item stays in while 4,000 go through', () => {
    const queue = new Queue<number>();
    queue.putNowait(-1);
    for (let i = 0; i < 4000; i++) {
      queue.putNowait(i);
      expect(queue.getNowait()).toBe(i - 1);
      expect(queue.size).toBe(1);
    }
    expect(queue.getNowait()).toBe(3999);
  });
});

describe('PriorityQueue: the refusal names what it got', () => {
  const message = (got: string) =>
    `The "item" argument: a PriorityQueue orders numbers (not NaN) or strings, not both, unless given a "compare" option: got ${got}`;

  it.each([
    ['an object on an empty queue', undefined, {}, 'object'],
    ['NaN on an empty queue', undefined, Number.NaN, 'NaN'],
    ['NaN among numbers', 1, Number.NaN, 'NaN'],
    ['a string among numbers', 1, 'a', 'string among numbers'],
    ['a number among strings', 'a', 1, 'number among strings'],
    ['a boolean among strings', 'a', true, 'boolean among strings'],
    ['undefined on an empty queue', undefined, undefined, 'undefined'],
  ])('%s', (_, first, item, got) => {
    const queue = new PriorityQueue<unknown>();
    if (first !== undefined) queue.putNowait(first);
    const error = thrownBy(() => queue.putNowait(item));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message(got));
  });
});

describe('PriorityQueue: what its compare is called with', () => {
  it('never compares an item with itself', () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ key: (i * 37) % 50 }));
    const queue = new PriorityQueue<{ key: number }>({
      compare: (a, b) => {
        if (a === b) throw new Error('compared an item with itself');
        return a.key - b.key;
      },
    });
    for (const item of items) queue.putNowait(item);
    const out: number[] = [];
    // Every size from 200 down to 1, so that the last item is compared at every depth.
    while (!queue.isEmpty()) out.push(queue.getNowait().key);
    expect(out).toEqual(items.map((item) => item.key).sort((a, b) => a - b));
  });
});
