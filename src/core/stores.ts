/**
 * Item storage for the queues: the order items come out in. The waiting logic is the same for
 * every queue (`queue.ts`); only the store differs.
 *
 * @module
 */

/** Where a queue keeps its items. */
export interface ItemStore<T> {
  /** Items stored now. */
  readonly size: number;
  /** The error to refuse `item` with, or `undefined` if it can be stored. */
  invalid(item: T): TypeError | undefined;
  push(item: T): void;
  /** Removes and returns the next item (there is one). */
  shift(): T;
  /** Drops every item; returns how many there were. */
  clear(): number;
}

/** First in, first out: an array consumed from a moving head, compacted now and then. */
export class FifoStore<T> implements ItemStore<T> {
  // Stryker disable next-line ArrayDeclaration: every slot is written before it is read
  #items: (T | undefined)[] = [];
  #head = 0;
  /** Index of the next free slot; slots at and after it hold `undefined`. */
  #tail = 0;

  get size(): number {
    return this.#tail - this.#head;
  }

  // Stryker disable next-line BlockStatement: an empty body returns undefined too
  invalid(_item: T): undefined {
    return undefined;
  }

  push(item: T): void {
    this.#items[this.#tail++] = item;
  }

  shift(): T {
    const items = this.#items;
    const head = this.#head;
    const item = items[head] as T;
    items[head] = undefined; // do not keep a taken item alive
    const next = head + 1;
    const tail = this.#tail;
    // Empty: reuse the slots from the start. (The array is 1,024 slots at most then: a longer
    // one is compacted before its last item is taken.)
    // Stryker disable next-line ConditionalExpression,BlockStatement: without it an empty store is compacted to an empty array 1,024 slots on at the latest, the same items in the same order
    if (next === tail) {
      this.#head = 0;
      this.#tail = 0;
      return item;
    }
    // Compact once past 1,024 slots and past half the array: move what is left into a new array
    // of its size (`splice(0, next)` would shorten this one but keep its capacity in V8, a
    // burst's slots for as long as the queue lives).
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: compacting sooner or later than this copies more or fewer items, never changes their order or count (compacting never, as with next / 2, fails the memory tests)
    if (next >= 1024 && next * 2 >= tail) {
      this.#items = items.slice(next, tail);
      this.#head = 0;
      this.#tail = tail - next;
    } else {
      this.#head = next;
    }
    return item;
  }

  clear(): number {
    const n = this.size;
    // Stryker disable next-line ArrayDeclaration: every slot is written before it is read
    this.#items = [];
    this.#head = 0;
    this.#tail = 0;
    return n;
  }
}

/** Last in, first out. */
export class LifoStore<T> implements ItemStore<T> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  // Stryker disable next-line BlockStatement: an empty body returns undefined too
  invalid(_item: T): undefined {
    return undefined;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T {
    return this.#items.pop() as T;
  }

  clear(): number {
    const n = this.#items.length;
    this.#items = [];
    return n;
  }
}

function defaultCompare(a: unknown, b: unknown): number {
  return (a as number) < (b as number) ? -1 : (b as number) < (a as number) ? 1 : 0;
}

/**
 * A binary min-heap, stable: each item carries its insertion number, which breaks ties, so equal
 * items come out in the order they were put.
 */
export class HeapStore<T> implements ItemStore<T> {
  #items: T[] = [];
  // Stryker disable next-line ArrayDeclaration: an extra first element only shifts the unread tail; every slot read is written by #lower first
  #seqs: number[] = [];
  #seq = 0;
  readonly #compare: (a: T, b: T) => number;

  constructor(compare: ((a: T, b: T) => number) | undefined) {
    this.#compare = compare ?? defaultCompare;
  }

  get size(): number {
    return this.#items.length;
  }

  invalid(item: T): TypeError | undefined {
    if (this.#compare !== defaultCompare) return undefined;
    // `<` orders numbers (but not NaN) or strings, and not a mix of the two: the stored items
    // are all of the type of the first.
    const type = typeof item;
    const held = this.#items.length > 0 ? typeof this.#items[0] : type;
    if ((type === 'string' || (type === 'number' && !Number.isNaN(item))) && type === held) return undefined;
    const got = Number.isNaN(item) ? 'NaN' : type === held ? type : `${type} among ${held}s`;
    return new TypeError(
      `The "item" argument: a PriorityQueue orders numbers (not NaN) or strings, not both, unless given a "compare" option: got ${got}`,
    );
  }

  /** Whether `a` (inserted as `seqA`) comes out before `b` (inserted as `seqB`). */
  #before(a: T, seqA: number, b: T, seqB: number): boolean {
    const c = this.#compare(a, b);
    // Stryker disable next-line EqualityOperator: no two items share an insertion number, and an item is never compared with itself
    return c < 0 || (c === 0 && seqA < seqB);
  }

  // If `compare` throws, the heap is left as it was: `push` finds the item's place before it
  // moves anything, and `shift` moves the path back if it throws halfway.

  push(item: T): void {
    const items = this.#items;
    const seqs = this.#seqs;
    const seq = this.#seq;
    let hole = items.length;
    while (hole > 0) {
      const parent = (hole - 1) >> 1;
      if (!this.#before(item, seq, items[parent] as T, seqs[parent] as number)) break;
      hole = parent;
    }
    this.#seq++;
    // A new leaf, then the ancestors on its path to the hole move down into it.
    items.push(item);
    seqs.push(seq);
    this.#lower(items.length - 1, hole, item, seq);
  }

  shift(): T {
    const items = this.#items;
    const seqs = this.#seqs;
    const top = items[0] as T;
    const topSeq = seqs[0] as number;
    const size = items.length - 1;
    const last = items[size] as T;
    const lastSeq = seqs[size] as number;
    // Sink `last` from the root along the path of smaller children, moving each child up into
    // the hole as it goes.
    let hole = 0;
    try {
      for (;;) {
        const left = 2 * hole + 1;
        if (left >= size) break;
        const right = left + 1;
        const child =
          right < size && this.#before(items[right] as T, seqs[right] as number, items[left] as T, seqs[left] as number)
            ? right
            : left;
        if (!this.#before(items[child] as T, seqs[child] as number, last, lastSeq)) break;
        items[hole] = items[child] as T;
        seqs[hole] = seqs[child] as number;
        hole = child;
      }
    } catch (error) {
      // `compare` threw: move the nodes on the path back down and put the top back, so the heap
      // is as it was.
      this.#lower(hole, 0, top, topSeq);
      throw error;
    }
    items[hole] = last;
    seqs[hole] = lastSeq;
    items.pop();
    seqs.pop();
    return top;
  }

  /**
   * Moves the nodes on the path from `top` down to its descendant `bottom` one level down (the
   * one at `bottom` is overwritten), and puts `item`, inserted as `seq`, at `top`.
   */
  #lower(bottom: number, top: number, item: T, seq: number): void {
    const items = this.#items;
    const seqs = this.#seqs;
    for (let i = bottom; i !== top; ) {
      const parent = (i - 1) >> 1;
      items[i] = items[parent] as T;
      seqs[i] = seqs[parent] as number;
      i = parent;
    }
    items[top] = item;
    seqs[top] = seq;
  }

  clear(): number {
    const n = this.#items.length;
    this.#items = [];
    // Stryker disable next-line ArrayDeclaration: an extra first element only shifts the unread tail; every slot read is written by #lower first
    this.#seqs = [];
    return n;
  }
}
