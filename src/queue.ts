import { invalidStateError } from './core/dom-errors.js';
import {
  badValue,
  checkFunction,
  checkInteger,
  PRIMITIVE_KEYS,
  type PrimitiveOptions,
  rejectInvalid,
  type WaitOptions,
} from './core/options.js';
import { Primitive } from './core/primitive.js';
import { FifoStore, HeapStore, type ItemStore, LifoStore } from './core/stores.js';
import { rejectWaiter } from './core/waiter.js';
import { cancelAll, resolveHead, WaiterQueue } from './core/waiters.js';
import { QueueEmptyError, QueueFullError, QueueShutDownError } from './errors.js';

/**
 * Constructor options of {@link Queue} and {@link LifoQueue}.
 *
 * @example
 * ```ts
 * const jobs = new Queue<string>({ maxSize: 100, name: 'jobs' });
 * ```
 */
export interface QueueOptions extends PrimitiveOptions {
  /** The most items the queue holds; `0` or absent: unbounded. An integer `>= 0`. */
  maxSize?: number | undefined;
}

/**
 * Constructor options of {@link PriorityQueue}.
 *
 * @example
 * ```ts
 * const tasks = new PriorityQueue<{ at: number }>({ compare: (a, b) => a.at - b.at, maxSize: 1_000 });
 * ```
 */
export interface PriorityQueueOptions<T> extends QueueOptions {
  /**
   * Orders items: negative if `a` comes out first. Default: `<` on numbers and strings (any other
   * item is a TypeError at `put`). Equal items come out in insertion order.
   */
  compare?: ((a: T, b: T) => number) | undefined;
}

const resolvedVoid: Promise<void> = Promise.resolve();

/**
 * A first-in, first-out queue for producers and consumers, like `asyncio.Queue`, optionally
 * bounded, with `taskDone`/`join` and `shutdown` (asyncio 3.13).
 *
 * Items are handed off: a `put` while a consumer waits gives the item straight to that consumer
 * (it never shows in `size`), and a `get` from a full queue while a producer waits takes that
 * producer's item in at once. A `put` that gives up never inserts its item; a `get` that gives
 * up never removes one. No item is lost or delivered twice.
 *
 * @example Producer and consumer with a bounded queue
 * ```ts
 * import { Queue, QueueShutDownError } from 'waitsafe';
 *
 * const jobs = new Queue<string>({ maxSize: 100, name: 'jobs' });
 *
 * async function producer(urls: string[]) {
 *   for (const url of urls) await jobs.put(url, { timeout: 5_000 }); // back-pressure
 *   jobs.shutdown(); // consumers drain what is left, then stop
 * }
 *
 * async function consumer() {
 *   for await (const url of jobs) {   // ends once shut down and drained
 *     await fetch(url);
 *     jobs.taskDone();
 *   }
 * }
 *
 * await Promise.all([producer(['https://example.com/a', 'https://example.com/b']), consumer(), consumer()]);
 * ```
 */
export class Queue<T> extends Primitive {
  /** @internal */
  // Stryker disable next-line StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/queue.test.ts
  static override optionKeys: readonly string[] = [...PRIMITIVE_KEYS, 'maxSize'];
  readonly #maxSize: number;
  readonly #getters: WaiterQueue<T> = new WaiterQueue<T>(this, 'get');
  readonly #putters: WaiterQueue<void> = new WaiterQueue<void>(this, 'put');
  readonly #joiners: WaiterQueue<void> = new WaiterQueue<void>(this, 'join');
  #unfinished = 0;
  #isShutDown = false;

  /**
   * @param options `maxSize` (0 or absent: unbounded), `name` and `maxWaiters`.
   * @throws {TypeError} If an option has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxSize` is not an integer `>= 0`, or `maxWaiters` is not an integer
   *   `>= 0` or `Infinity`.
   */
  constructor(options?: QueueOptions) {
    const maxSize = options?.maxSize;
    if (maxSize !== undefined) checkInteger(maxSize, 'The "maxSize" option', 0);
    super(options);
    this.#maxSize = maxSize ?? 0;
    this.#items = this.createStore(options);
  }

  readonly #items: ItemStore<T>;

  /** The storage that decides the order: FIFO here. @internal */
  protected createStore(_options: QueueOptions | undefined): ItemStore<T> {
    return new FifoStore<T>();
  }

  /**
   * Puts an item, waiting while the queue is full. With a consumer waiting, the item goes
   * straight to it.
   *
   * *Cancellation.* If the signal aborts or the timeout elapses while the queue is full, the put
   * leaves the queue of producers and rejects with the abort reason or a `TimeoutError`
   * DOMException; its item is never inserted. An already-aborted signal rejects at once, even if
   * there is room. `timeout: 0` puts if there is room now, else rejects at once. Once its item
   * was taken in, a later abort changes nothing.
   *
   * @returns A promise that resolves once the item is in the queue or with a consumer. It never
   *   throws synchronously.
   * @throws {QueueShutDownError} (as a rejection) If the queue is shut down, or is shut down while
   *   the put waits.
   *
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * await queue.put(job, { signal: request.signal });
   * ```
   */
  put(item: T, options?: WaitOptions): Promise<void> {
    const invalid = this.#items.invalid(item);
    if (invalid !== undefined) return Promise.reject(invalid);
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#isShutDown) return Promise.reject(this.#shutDownError('put'));
    try {
      if (this.#tryPut(item)) return resolvedVoid;
    } catch (error) {
      // A PriorityQueue's compare threw: nothing was stored.
      return Promise.reject(error);
    }
    return this.#putters.wait(options, item);
  }

  /**
   * Puts an item if there is room now (or a consumer waits).
   *
   * @throws {QueueFullError} If the queue is full.
   * @throws {QueueShutDownError} If the queue is shut down.
   *
   * @example
   * ```ts
   * try {
   *   queue.putNowait(job);
   * } catch (error) {
   *   if (error instanceof QueueFullError) reject(job);
   * }
   * ```
   */
  putNowait(item: T): void {
    const invalid = this.#items.invalid(item);
    if (invalid !== undefined) throw invalid;
    if (this.#isShutDown) throw this.#shutDownError('putNowait');
    if (!this.#tryPut(item)) throw new QueueFullError(`${this.label} is full (maxSize ${this.#maxSize})`);
  }

  /** Hands `item` to a waiting consumer, or stores it if there is room. */
  #tryPut(item: T): boolean {
    if (this.#getters.head !== null) resolveHead(this.#getters, item);
    else if (this.#maxSize === 0 || this.#items.size < this.#maxSize) this.#items.push(item);
    else return false;
    this.#unfinished++;
    return true;
  }

  /**
   * Removes and returns the next item, waiting while the queue is empty.
   *
   * *Cancellation.* If the signal aborts or the timeout elapses while the queue is empty, the get
   * leaves the queue of consumers and rejects with the abort reason or a `TimeoutError`
   * DOMException; it never removes an item. An already-aborted signal rejects at once, even if
   * an item is there. `timeout: 0` takes an item if there is one now, else rejects at once. Once
   * an item was handed to the get, a later abort changes nothing: the item is the caller's.
   *
   * Items that are promises or thenables are adopted by the returned promise (a promise cannot
   * resolve to a thenable); wrap them (`{ value }`) to get them as they are.
   *
   * @returns A promise of the item. It never throws synchronously.
   * @throws {QueueShutDownError} (as a rejection) If the queue is shut down and empty, or is shut
   *   down while the get waits.
   *
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example Give up after 1 s
   * ```ts
   * const job = await queue.get({ timeout: 1_000 });
   * ```
   */
  get(options?: WaitOptions): Promise<T> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#items.size > 0) {
      try {
        return Promise.resolve(this.#take());
      } catch (error) {
        // A PriorityQueue's compare threw: nothing was removed.
        return Promise.reject(error);
      }
    }
    if (this.#isShutDown) return Promise.reject(this.#shutDownError('get'));
    return this.#getters.wait(options);
  }

  /**
   * Removes and returns the next item if there is one now.
   *
   * @throws {QueueEmptyError} If the queue is empty.
   * @throws {QueueShutDownError} If the queue is shut down and empty.
   *
   * @example
   * ```ts
   * const job = queue.isEmpty() ? undefined : queue.getNowait();
   * ```
   */
  getNowait(): T {
    if (this.#items.size > 0) return this.#take();
    if (this.#isShutDown) throw this.#shutDownError('getNowait');
    throw new QueueEmptyError(`${this.label} is empty`);
  }

  /** Takes the next item, and takes a waiting producer's item in to fill the slot. */
  #take(): T {
    const item = this.#items.shift();
    // Admit the first producer whose item can be stored (a PriorityQueue's compare may throw
    // for one: that put rejects with the error, and the next producer gets the slot).
    for (let putter = this.#putters.head; putter !== null; putter = this.#putters.head) {
      this.#putters.detach(putter);
      try {
        this.#items.push(putter.data as T);
      } catch (error) {
        rejectWaiter(putter, error);
        continue;
      }
      this.#unfinished++;
      putter.resolve(undefined);
      break;
    }
    return item;
  }

  /**
   * Marks one item as processed. When every item put so far is processed, `join()` resolves.
   *
   * @throws {DOMException} `InvalidStateError` if called more times than items were put.
   *
   * @example
   * ```ts
   * const job = await queue.get();
   * try { await run(job); } finally { queue.taskDone(); }
   * ```
   */
  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw invalidStateError(`${this.label}: taskDone() called more times than items were put`);
    }
    this.#finish(1);
  }

  /** Counts `n` items as processed (never below 0), and resolves the joiners at 0. */
  #finish(n: number): void {
    this.#unfinished = Math.max(0, this.#unfinished - n);
    if (this.#unfinished === 0) this.#joiners.resolveAll(undefined);
  }

  /**
   * Waits until every item put so far has been processed (`taskDone()` called for it).
   *
   * *Cancellation.* If the signal aborts or the timeout elapses first, the join rejects with the
   * abort reason or a `TimeoutError` DOMException, and leaves nothing behind; the queue is
   * unaffected.
   *
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const jobs = new Queue<string>();
   * await jobs.put('a');
   * void jobs.get().then(() => jobs.taskDone()); // a worker
   * await jobs.join({ timeout: 30_000 });        // resolves once taskDone() was called for 'a'
   * ```
   */
  join(options?: WaitOptions): Promise<void> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#unfinished === 0) return resolvedVoid;
    return this.#joiners.wait(options);
  }

  /**
   * Shuts the queue down (asyncio 3.13): puts reject with {@link QueueShutDownError} from now
   * on, and so do waiting producers (their items are not inserted). Gets return the remaining
   * items, then reject; waiting consumers reject at once. With `immediate`, the remaining items
   * are discarded too: the unfinished count drops by that many, and `join()` resolves if it
   * reaches 0. Idempotent; a later `shutdown(true)` still discards.
   *
   * @param immediate `true` to discard the remaining items; `false` or absent to let consumers
   *   drain them. Only a boolean: anything else is a TypeError and shuts nothing down.
   * @throws {TypeError} If `immediate` is not a boolean or undefined.
   *
   * @example Graceful shutdown
   * ```ts
   * queue.shutdown();                 // no more puts; consumers drain the rest
   * for await (const job of queue) {  // a consumer: ends once the queue is drained
   *   await run(job);
   *   queue.taskDone();
   * }
   * await queue.join();               // every item put has been processed
   * ```
   */
  shutdown(immediate = false): void {
    if (typeof immediate !== 'boolean') {
      throw badValue('The "immediate" argument', 'a boolean or undefined', immediate);
    }
    this.#isShutDown = true;
    if (immediate) this.#finish(this.#items.clear());
    cancelAll(this.#putters, () => this.#shutDownError('put'));
    cancelAll(this.#getters, () => this.#shutDownError('get'));
  }

  /**
   * Whether the queue holds no item.
   *
   * @example
   * ```ts
   * new Queue().isEmpty(); // true
   * ```
   */
  isEmpty(): boolean {
    return this.#items.size === 0;
  }

  /**
   * Whether the queue is bounded and holds `maxSize` items.
   *
   * @example
   * ```ts
   * new Queue({ maxSize: 1 }).isFull(); // false
   * ```
   */
  isFull(): boolean {
    return this.#maxSize > 0 && this.#items.size >= this.#maxSize;
  }

  /**
   * Whether `shutdown()` was called.
   *
   * @example
   * ```ts
   * new Queue().isShutDown(); // false
   * ```
   */
  isShutDown(): boolean {
    return this.#isShutDown;
  }

  /**
   * Items in the queue now.
   *
   * @example
   * ```ts
   * new Queue().size; // 0
   * ```
   */
  get size(): number {
    return this.#items.size;
  }

  /**
   * The bound; `0` for an unbounded queue.
   *
   * @example
   * ```ts
   * new Queue({ maxSize: 10 }).maxSize; // 10
   * ```
   */
  get maxSize(): number {
    return this.#maxSize;
  }

  /**
   * Waits pending now: consumers in `get`, producers in `put`, and `join` callers.
   *
   * @example
   * ```ts
   * const q = new Queue<number>();
   * void q.get();
   * q.waiterCount; // 1
   * ```
   */
  get waiterCount(): number {
    return this.#getters.size + this.#putters.size + this.#joiners.size;
  }

  /**
   * Yields items as they arrive until the queue is shut down and drained. Does not call
   * `taskDone()`. Breaking out of the loop leaves no pending get behind.
   *
   * @example
   * ```ts
   * setTimeout(() => queue.shutdown(), 100); // elsewhere, later
   * for await (const job of queue) {         // ends once the queue is shut down and drained
   *   await run(job);
   *   queue.taskDone();                      // not called for you
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.get();
      } catch (error) {
        if (error instanceof QueueShutDownError) return;
        throw error;
      }
      yield item;
    }
  }

  /** `'Queue'`. */
  get [Symbol.toStringTag](): string {
    return 'Queue';
  }

  protected describeState(): string {
    // A bound of 0 is no bound.
    const bound = this.#maxSize || '∞';
    return `size:${this.#items.size}/${bound}, waiters:${this.waiterCount}${this.#isShutDown ? ', shut down' : ''}`;
  }

  #shutDownError(method: string): QueueShutDownError {
    return new QueueShutDownError(`${this.label} is shut down: ${method}() refused`);
  }
}

/**
 * A queue that hands out the most recently put item first (a stack), like `asyncio.LifoQueue`.
 * Everything else is as for {@link Queue}.
 *
 * @example
 * ```ts
 * const stack = new LifoQueue<number>();
 * stack.putNowait(1);
 * stack.putNowait(2);
 * await stack.get(); // 2
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  /**
   * @param options `maxSize` (0 or absent: unbounded), `name` and `maxWaiters`.
   * @throws {TypeError} If an option has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxSize` or `maxWaiters` is out of range.
   */
  constructor(options?: QueueOptions) {
    super(options);
  }

  protected override createStore(): ItemStore<T> {
    return new LifoStore<T>();
  }

  /** `'LifoQueue'`. */
  override get [Symbol.toStringTag](): string {
    return 'LifoQueue';
  }
}

/**
 * A queue that hands out the smallest item first, like `asyncio.PriorityQueue` (a binary heap),
 * and, beyond asyncio, stable: equal items come out in the order they were put. Everything else
 * is as for {@link Queue}.
 *
 * @example
 * ```ts
 * const tasks = new PriorityQueue<{ priority: number; name: string }>({
 *   compare: (a, b) => a.priority - b.priority,
 * });
 * tasks.putNowait({ priority: 2, name: 'later' });
 * tasks.putNowait({ priority: 1, name: 'first' });
 * (await tasks.get()).name; // 'first'
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  /** @internal */
  // Stryker disable next-line StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/queue.test.ts
  static override optionKeys: readonly string[] = [...Queue.optionKeys, 'compare'];
  /**
   * @param options `compare` (default: `<` on numbers and strings), `maxSize` (0 or absent:
   *   unbounded), `name` and `maxWaiters`.
   * @throws {TypeError} If an option has the wrong type (`compare` must be a function), or
   *   `options` has a key it does not know.
   * @throws {RangeError} If `maxSize` or `maxWaiters` is out of range.
   */
  constructor(options?: PriorityQueueOptions<T>) {
    const compare = (options as PriorityQueueOptions<T> | undefined)?.compare;
    if (compare !== undefined) checkFunction(compare, 'The "compare" option');
    super(options);
  }

  protected override createStore(options: PriorityQueueOptions<T> | undefined): ItemStore<T> {
    return new HeapStore<T>(options?.compare);
  }

  /** `'PriorityQueue'`. */
  override get [Symbol.toStringTag](): string {
    return 'PriorityQueue';
  }
}
