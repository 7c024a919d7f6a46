/**
 * The one waitsafe state of a process.
 *
 * A process can load waitsafe more than once: its ESM and its CommonJS build (one dependency
 * `import`s it, another `require`s it), or two bundled copies. Waits from every copy must still
 * share one abort listener per signal, one timer per duration, one idle sweep, one inspector and
 * one default `maxWaiters`. So that state lives in one object on `globalThis` under a
 * `Symbol.for` key, made by whichever copy loads first and adopted by the others.
 *
 * The objects kept in it (signal entries, timer buckets, waiter nodes) are made by one copy and
 * used by another, so copies that share this state must agree on their shape: the key carries a
 * layout number, to be raised whenever those shapes change, and copies with different layouts
 * keep separate states (as if they were different libraries).
 *
 * @module
 */

/** Something that can be released once no wait needs it any more (`idle.ts`). */
export interface Releasable {
  /** True while the item is on the pending list. */
  idle: boolean;
  /** True while it holds a timer or a listener: only then is there anything to release. */
  readonly held: boolean;
  /** Drops the timer or listener if still unused. Must be idempotent. */
  release(): void;
}

/** A class, as the inspector gets it to find the caller of its constructor. */
// biome-ignore lint/suspicious/noExplicitAny: any constructor at all.
export type AnyClass = abstract new (...args: any[]) => unknown;

/** The process-wide state. Fields are written only by the module named on each. */
export interface State {
  /** `signals.ts`: the one listener entry per signal. */
  readonly signals: WeakMap<AbortSignal, object>;
  /** `timers.ts`: the timer bucket that new waits of each timeout duration join. */
  readonly buckets: Map<number, object>;
  /** `idle.ts`: timers and listeners waiting for the next sweep. */
  readonly idle: Releasable[];
  /** `idle.ts`: the scheduling function of the pending sweep, if any. */
  sweepWith?: unknown;
  /** `primitive.ts`: the default `maxWaiters`. */
  maxWaiters: number;
  /** `shared/primitive.ts`: how many `waitsafe/shared` instances this thread has made (their NONCE). */
  sharedInstances?: number;
  /**
   * `waitsafe/inspect`: called with every new primitive while tracking, the class constructed,
   * and whether a primitive made it for itself.
   */
  track?: ((primitive: never, maker: AnyClass, owned: boolean) => void) | undefined;
  /** `waitsafe/inspect`: its registry, made by the first inspector that loads. */
  inspector?: unknown;
}

const key = Symbol.for('waitsafe.state.1');

/** The state shared by every copy of waitsafe in this process (realm). */
const global = globalThis as { [key]?: State };
global[key] ??= {
  signals: new WeakMap(),
  buckets: new Map(),
  idle: [],
  maxWaiters: 1000,
} as State;
export const state: State = global[key];
