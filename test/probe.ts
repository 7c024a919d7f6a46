/**
 * What the leak checks count, the same way on every runtime (Node, Bun, Deno, a browser).
 *
 * Node has `getEventListeners` and `process.getActiveResourcesInfo()`; browsers have neither, and
 * Bun's `getActiveResourcesInfo()` is always empty. So `test/setup.ts` installs this probe before
 * any test module loads, and it counts for itself:
 *
 * - listeners: it wraps `EventTarget.prototype.addEventListener` and `removeEventListener` and
 *   keeps, per target and event type, the listeners registered now. It follows the DOM rules that
 *   matter for counting: adding a listener that is already there (same callback, same capture) is
 *   a no-op; a `{ once: true }` listener goes away when it is invoked; one added with an already
 *   aborted `{ signal }` is never added, and one added with a live signal goes when it aborts.
 * - timers: it wraps `globalThis.setTimeout` and `clearTimeout` and keeps the handles of the
 *   timers that have neither fired nor been cleared. Calls are forwarded with the `this` they were
 *   made with, so a call a browser rejects (`Illegal invocation`) is still rejected.
 *
 * waitsafe looks `setTimeout`, `clearTimeout` and `setImmediate` up on `globalThis` when it uses
 * them, so it goes through the wrappers. Fake timers (`vi.useFakeTimers()`) replace the global
 * functions while installed and put the wrappers back when uninstalled; timers made under fakes
 * are counted by `vi.getTimerCount()`, not here.
 *
 * The probe lives on `globalThis` under a registry symbol, so a module graph reset
 * (`vi.resetModules()`) that evaluates this file again finds it instead of wrapping twice.
 */

type Callback = (...args: unknown[]) => unknown;
type Listener = EventListenerOrEventListenerObject;

/** The counters and the real timer functions, as installed once per global object. */
export interface Probe {
  /** Listeners for `type` on `target` now. */
  listenerCount(target: EventTarget, type: string): number;
  /** Real timers that have neither fired nor been cleared. */
  pendingTimers(): number;
  /**
   * Resolves on a later macrotask than every sweep waitsafe has scheduled so far: after one
   * `setImmediate` turn where the runtime has `setImmediate`, else once every real zero-delay
   * timer pending at the call has run (a browser may clamp nested zero-delay timers to 4 ms, so
   * a timer set after another can run first).
   */
  nextMacrotask(): Promise<void>;
  /** The real `setTimeout` and `clearTimeout`, whatever is installed on `globalThis` now. */
  readonly setTimeout: typeof globalThis.setTimeout;
  readonly clearTimeout: typeof globalThis.clearTimeout;
}

const KEY = Symbol.for('waitsafe.test.probe');

/** One registration, as the DOM identifies it: (type, callback, capture). */
interface Registration {
  readonly listener: Listener;
  readonly capture: boolean;
  /** What was registered natively: the listener, or a wrapper that forgets a `once` one. */
  readonly native: Listener;
}

function install(): Probe {
  const g = globalThis as unknown as Record<string, unknown>;
  const proto = EventTarget.prototype;
  const add = proto.addEventListener;
  const remove = proto.removeEventListener;
  const registrations = new WeakMap<object, Map<string, Registration[]>>();

  const listOf = (target: object, type: string): Registration[] => {
    let byType = registrations.get(target);
    if (byType === undefined) {
      byType = new Map();
      registrations.set(target, byType);
    }
    let list = byType.get(type);
    if (list === undefined) {
      list = [];
      byType.set(type, list);
    }
    return list;
  };
  const forget = (list: Registration[], registration: Registration) => {
    const i = list.indexOf(registration);
    if (i !== -1) list.splice(i, 1);
  };

  proto.addEventListener = function addEventListener(
    this: EventTarget,
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    const capture = typeof options === 'boolean' ? options : options?.capture === true;
    const once = typeof options === 'object' && options?.once === true;
    const signal = typeof options === 'object' ? options?.signal : undefined;
    const list = listener === null ? undefined : listOf(this, String(type));
    if (list === undefined || list.some((r) => r.listener === listener && r.capture === capture) || signal?.aborted) {
      // Not added by the platform either: a null listener, a duplicate or an aborted signal.
      add.call(this, type, listener, options);
      return;
    }
    const real = listener as Listener;
    let registration: Registration;
    const native: Listener = once
      ? function (this: unknown, event: Event) {
          forget(list, registration);
          return typeof real === 'function' ? real.call(this, event) : real.handleEvent(event);
        }
      : real;
    registration = { listener: real, capture, native };
    list.push(registration);
    if (signal !== undefined) add.call(signal, 'abort', () => forget(list, registration), { once: true });
    add.call(this, type, native, options);
  };

  proto.removeEventListener = function removeEventListener(
    this: EventTarget,
    type: string,
    listener: Listener | null,
    options?: boolean | EventListenerOptions,
  ): void {
    const capture = typeof options === 'boolean' ? options : options?.capture === true;
    const list = registrations.get(this)?.get(String(type));
    const registration = list?.find((r) => r.listener === listener && r.capture === capture);
    if (list === undefined || registration === undefined) {
      remove.call(this, type, listener, options);
      return;
    }
    forget(list, registration);
    remove.call(this, type, registration.native, options);
  };

  const realSetTimeout = g.setTimeout as Callback;
  const realClearTimeout = g.clearTimeout as Callback;
  const realSetImmediate = typeof g.setImmediate === 'function' ? (g.setImmediate as Callback) : undefined;
  const pending = new Set<unknown>();
  /** The pending timers of delay 0 (what waitsafe's sweep uses where there is no setImmediate). */
  const zeroDelay = new Set<unknown>();

  const setTimeout = function setTimeout(this: unknown, callback: unknown, ms?: unknown, ...args: unknown[]) {
    if (typeof callback !== 'function') return realSetTimeout.call(this, callback, ms, ...args);
    let handle: unknown;
    const fired = function (this: unknown, ...a: unknown[]) {
      pending.delete(handle);
      zeroDelay.delete(handle);
      return (callback as Callback).apply(this, a);
    };
    handle = realSetTimeout.call(this, fired, ms, ...args);
    pending.add(handle);
    if (!(Number(ms) > 0)) zeroDelay.add(handle);
    return handle;
  };
  const clearTimeout = function clearTimeout(this: unknown, handle?: unknown) {
    pending.delete(handle);
    zeroDelay.delete(handle);
    return realClearTimeout.call(this, handle);
  };
  // Keep what runtimes hang on the functions (Node's util.promisify.custom).
  for (const [from, to] of [
    [realSetTimeout, setTimeout],
    [realClearTimeout, clearTimeout],
  ] as const) {
    for (const key of Object.getOwnPropertySymbols(from)) {
      Object.defineProperty(to, key, Object.getOwnPropertyDescriptor(from, key) as PropertyDescriptor);
    }
  }
  g.setTimeout = setTimeout;
  g.clearTimeout = clearTimeout;

  const turn = () =>
    new Promise<void>((resolve) => {
      if (realSetImmediate !== undefined) realSetImmediate(resolve);
      else realSetTimeout(resolve, 0);
    });

  return {
    listenerCount: (target, type) => registrations.get(target)?.get(type)?.length ?? 0,
    pendingTimers: () => pending.size,
    async nextMacrotask() {
      const due = [...zeroDelay];
      await turn();
      while (due.some((handle) => zeroDelay.has(handle))) await turn();
    },
    setTimeout: realSetTimeout as unknown as typeof globalThis.setTimeout,
    clearTimeout: realClearTimeout as unknown as typeof globalThis.clearTimeout,
  };
}

const slot = globalThis as unknown as Record<symbol, Probe | undefined>;
if (slot[KEY] === undefined) slot[KEY] = install();

/** The probe of this global object, installed on first use. */
export const probe: Probe = slot[KEY];
