// What every part of the soak run (scripts/soak.mjs) shares, in each thread and process that
// drives waitsafe: the model of pending waits, the random choices, the soak's own timers and
// signals, and the synchronous invariant checks. One Env per thread or process.
//
// The model. Every wait the soak starts goes through `env.wait()` (or `begin()`/`end()`): the
// record of its primitive counts it from the call until its promise settles, in a `.then`
// directly on that promise. waitsafe settles a wait in the same synchronous step in which it
// leaves its queue, and the `.then` runs in the microtasks right after; every microtask runs
// before the next macrotask. So in a macrotask (a timer callback, where every check runs), the
// model's count and the primitive's `waiterCount` describe the same moment and must be equal,
// not just close.
//
// The checks read waitsafe's process-wide state (`Symbol.for('waitsafe.state.1')`, src/core/
// state.ts): the timer bucket of each timeout duration (its list of waits and its one timer), the
// one listener entry of each signal, and the list the next idle sweep releases. Reading it is for
// this soak only; the layout number in the key changes when those shapes do.
import { getEventListeners } from 'node:events';
import { BrokenBarrierError, Deadline, isTimeoutError, linkSignals, QueueShutDownError } from '../dist/esm/index.js';

/** Timeouts the waits draw from (ms). A few distinct durations: they share timers. */
export const TIMEOUTS = [0, 1, 2, 5, 10, 20, 50, 100, 250, 500];

/** waitsafe's process-wide state (src/core/state.ts), or a clear error if its layout changed. */
export function waitsafeState() {
  const state = globalThis[Symbol.for('waitsafe.state.1')];
  if (!state || !(state.buckets instanceof Map) || !(state.signals instanceof WeakMap) || !Array.isArray(state.idle)) {
    throw new Error('soak: waitsafe.state.1 not found or changed: update scripts/soak-lib.mjs to the new layout');
  }
  return state;
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));

export function describe(error) {
  if (error instanceof Error || error instanceof DOMException) return `${error.name}: ${error.message}`;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

const finiteMs = (ms) => typeof ms === 'number' && ms !== Infinity;

/** The primitives of one part of the load, and the waits the model counts on them. */
export class Rec {
  /**
   * @param prims the primitives whose `waiterCount`s, summed, the model's `pending` must equal
   *   (several for a Condition: its conditions and their lock); null: no such count (helpers).
   * @param check () => problem | undefined: the part's own invariant, checked with the others.
   * @param done () => boolean: a retired record is dropped once nothing is pending and done().
   */
  constructor(env, name, prims, { check, done, kind } = {}) {
    this.env = env;
    this.name = name;
    this.kind = kind ?? 'state';
    this.prims = prims;
    this.check = check;
    this.done = done;
    this.pending = 0;
    this.retired = false;
    env.records.add(this);
  }

  waiters() {
    if (this.prims === null) return undefined;
    let n = 0;
    for (const p of this.prims) n += p.waiterCount;
    return n;
  }
}

export class Env {
  constructor({ seed, label }) {
    this.rng = makeRng(seed);
    this.label = label;
    this.state = waitsafeState();
    this.started = performance.now();
    /** Calls of the API: waits started, and every set, release, put, shutdown, abort... */
    this.ops = 0;
    /** Model: waits (and timeout() calls, sleeps) started and not settled. */
    this.pending = 0;
    /** Of them, those with a finite timeout: each may hold one link in a timer bucket. */
    this.timed = 0;
    this.records = new Set();
    /** Every signal a wait may use: signal -> { kind, pending, disposable }. */
    this.signals = new Map();
    /** Live Deadlines and linkSignals results: their registrations on their inputs. */
    this.helpers = new Set();
    /** Cleanup to run when the wait made with these options ends (a linked signal's dispose). */
    this.cleanups = new Map();
    this.ownTimers = 0;
    this.napping = new Set();
    /** Timers someone else may hold, with the reason: () => number (e.g. a redis adapter's idle timer). */
    this.extraTimers = () => 0;
    this.outcomes = { ok: 0, timeout: 0, abort: 0, shutdown: 0, broken: 0, failed: 0, expected: 0, unexpected: 0 };
    this.violations = new Map();
    this.onViolation = undefined;
    this.samples = 0;
    this.last = {};
    this.running = true;
    this.pausing = false;
    this.parked = 0;
    this.actors = 0;
    this.resumed = Promise.resolve();
    this.resume = () => {};
    // Signals: a pool shared by many waits (aborted at random and replaced), long-lived ones
    // (replaced now and then without an abort), and one aborted before any wait uses it.
    this.pool = [];
    this.longLived = [];
    this.reasons = 0;
    const aborted = new AbortController();
    aborted.abort({ soak: 'aborted before the wait' });
    this.abortedSignal = aborted.signal;
    this.addSignal(aborted.signal, 'pre-aborted', false);
  }

  // -------------------------------------------------------------------------------------------
  // Random choices

  random() {
    return this.rng();
  }
  int(n) {
    return Math.floor(this.rng() * n);
  }
  pick(list) {
    return list[Math.floor(this.rng() * list.length)];
  }
  chance(p) {
    return this.rng() < p;
  }

  // -------------------------------------------------------------------------------------------
  // The soak's own timers: counted, so that the Timeout check knows which timers are its own.

  timer(fn, ms) {
    this.ownTimers++;
    let live = true;
    // Node counts a timer as active until its callback returns: so does ownTimers.
    const handle = setTimeout(() => {
      live = false;
      try {
        fn();
      } finally {
        this.ownTimers--;
      }
    }, ms);
    return () => {
      if (!live) return;
      live = false;
      this.ownTimers--;
      clearTimeout(handle);
    };
  }

  /** Until the next sample: 100-300 ms, or 0 to SOAK_SAMPLE_MS ms (to hunt races; costs CPU). */
  sampleDelay() {
    const fast = Number(process.env.SOAK_SAMPLE_MS);
    return fast > 0 ? this.int(fast + 1) : 100 + this.int(200);
  }

  delay(ms) {
    return new Promise((resolve) => this.timer(resolve, ms));
  }

  /** Like delay, but over at once when the run starts pausing (a recycler's long sleep). */
  nap(ms) {
    return new Promise((resolve) => {
      const wake = () => {
        this.napping.delete(wake);
        cancel();
        resolve();
      };
      const cancel = this.timer(wake, ms);
      this.napping.add(wake);
    });
  }

  /** A random hold inside a critical section or between steps: none, a tick, a macrotask, a timer. */
  hold() {
    const r = this.rng();
    if (r < 0.3) return undefined;
    if (r < 0.55) return nextMacrotask();
    if (r < 0.97) return this.delay(1 + this.int(4));
    return this.delay(10 + this.int(30));
  }

  // -------------------------------------------------------------------------------------------
  // Signals

  /** Registers a signal for the checks; a `disposable` one is dropped once unused and free of listeners. */
  addSignal(signal, kind, disposable = true) {
    let rec = this.signals.get(signal);
    if (rec === undefined) {
      rec = { kind, pending: 0, disposable };
      this.signals.set(signal, rec);
    }
    return rec;
  }

  reason() {
    this.reasons++;
    return { soak: 'abort', n: this.reasons };
  }

  initSignals(pool = 6, longLived = 2) {
    for (let i = 0; i < pool; i++) this.pool[i] = this.#freshPool();
    for (let i = 0; i < longLived; i++) this.longLived[i] = this.#fresh('long-lived');
  }

  #fresh(kind) {
    const controller = new AbortController();
    this.addSignal(controller.signal, kind, false);
    return controller;
  }

  #freshPool() {
    return this.#fresh('pool');
  }

  /** Aborts pool signal `i` (a random one by default) and replaces it. */
  abortPool(i = this.int(this.pool.length)) {
    const controller = this.pool[i];
    this.pool[i] = this.#freshPool();
    this.#retireSignal(controller.signal);
    this.ops++;
    controller.abort(this.reason());
  }

  /** Replaces long-lived signal `i` without aborting it: its waits end by themselves. */
  retireLongLived(i = this.int(this.longLived.length)) {
    const controller = this.longLived[i];
    this.longLived[i] = this.#fresh('long-lived');
    this.#retireSignal(controller.signal);
    return controller;
  }

  #retireSignal(signal) {
    const rec = this.signals.get(signal);
    if (rec !== undefined) rec.disposable = true;
  }

  /** Aborts every pool and long-lived signal (and replaces them): a drain step. */
  abortAll() {
    for (let i = 0; i < this.pool.length; i++) this.abortPool(i);
    for (let i = 0; i < this.longLived.length; i++) this.retireLongLived(i).abort(this.reason());
  }

  /**
   * A signal for a wait: { signal, ends }, where `ends` says whether it is sure to abort (so a wait
   * on it with no timeout still ends). Pool signals are shared by many waits; own ones belong to
   * one wait and abort after a random delay, or never.
   */
  signal() {
    const r = this.rng();
    if (r < 0.45) return { signal: this.pick(this.pool).signal, ends: true };
    if (r < 0.6) return { signal: this.pick(this.longLived).signal, ends: false };
    if (r < 0.62) return { signal: this.abortedSignal, ends: true };
    if (r < 0.85) {
      const controller = new AbortController();
      this.addSignal(controller.signal, 'own');
      const ends = this.chance(0.7);
      if (ends) this.timer(() => controller.abort(this.reason()), this.pick([0, 1, 2, 5, 10, 30, 100]));
      return { signal: controller.signal, ends };
    }
    // linkSignals of a pool signal and an own one (which may abort first), disposed when the wait ends.
    const own = new AbortController();
    this.addSignal(own.signal, 'own');
    const inputs = [this.pick(this.pool).signal, own.signal];
    const linked = this.link(inputs);
    if (this.chance(0.3)) this.timer(() => own.abort(this.reason()), this.pick([0, 2, 10, 50]));
    return { signal: linked.signal, ends: true, dispose: linked.dispose };
  }

  /** linkSignals(...inputs), registered: { signal, dispose }. */
  link(inputs) {
    this.ops++;
    const signal = linkSignals(...inputs);
    this.addSignal(signal, 'linked', false);
    const helper = { kind: 'link', inputs, signal, disposed: false };
    this.helpers.add(helper);
    const dispose = () => {
      if (helper.disposed) return;
      helper.disposed = true;
      this.ops++;
      signal[Symbol.dispose]();
    };
    return { signal, dispose };
  }

  /** A Deadline, registered (its registration on its outer signal and its timer are counted). */
  deadline(ms, outer) {
    this.ops++;
    const d = outer === undefined ? new Deadline(ms) : new Deadline(ms, { signal: outer });
    this.addSignal(d.signal, 'deadline', false);
    const helper = { kind: 'deadline', inputs: outer === undefined ? [] : [outer], d, disposed: false };
    this.helpers.add(helper);
    const dispose = () => {
      if (helper.disposed) return;
      helper.disposed = true;
      this.ops++;
      d[Symbol.dispose]();
    };
    return { d, dispose };
  }

  /**
   * Options for a wait: a timeout, a signal, both or neither. `plain`: the wait may have neither
   * (it then ends only by a grant); otherwise it always has a timeout or a signal that aborts.
   */
  options({ plain = true, timeouts = TIMEOUTS } = {}) {
    if (this.pausing) return { timeout: this.pick([1, 5, 20]) };
    const mode = this.int(8);
    let timeout;
    let picked;
    if (mode < 2 || mode === 4 || mode === 5) timeout = this.pick(timeouts);
    if (mode >= 2 && mode < 6) picked = this.signal();
    if (!plain && timeout === undefined && (picked === undefined || !picked.ends)) {
      timeout = this.pick(timeouts.filter((ms) => ms > 0));
    }
    const options = {};
    if (timeout !== undefined) options.timeout = timeout;
    if (picked !== undefined) {
      options.signal = picked.signal;
      if (picked.dispose) this.cleanups.set(options, picked.dispose);
    }
    return options;
  }

  // -------------------------------------------------------------------------------------------
  // The model of pending waits

  /** Counts a wait on `rec` that starts now; `counted: false` for a call that is not a wait (a Redis `timeout: 0`). */
  begin(rec, options, counted = true) {
    this.ops++;
    const signal = options?.signal;
    const w = {
      rec,
      options,
      counted,
      timed: counted && finiteMs(options?.timeout),
      sig: counted && signal !== undefined ? this.signals.get(signal) : undefined,
      live: true,
    };
    if (counted) {
      rec.pending++;
      this.pending++;
    }
    if (w.timed) {
      this.timed++;
      rec.timed = (rec.timed ?? 0) + 1;
    }
    if (w.sig !== undefined) w.sig.pending++;
    return w;
  }

  /** The wait has settled (or, for runExclusive and LockManager callbacks, been granted). Idempotent. */
  end(w) {
    if (!w.live) return;
    w.live = false;
    if (w.counted) {
      w.rec.pending--;
      this.pending--;
    }
    if (w.timed) {
      this.timed--;
      w.rec.timed--;
    }
    if (w.sig !== undefined) w.sig.pending--;
    const cleanup = this.cleanups.get(w.options);
    if (cleanup !== undefined) {
      this.cleanups.delete(w.options);
      cleanup();
    }
  }

  /** Ends `w` when `promise` settles; resolves with { ok, value } or { ok: false, why, error }, never rejects. */
  settle(w, promise, expect) {
    return promise.then(
      (value) => {
        this.end(w);
        this.outcomes.ok++;
        return { ok: true, value };
      },
      (error) => {
        this.end(w);
        const why = this.classify(error, w.options, expect);
        this.outcomes[why]++;
        return { ok: false, why, error };
      },
    );
  }

  /** Starts a wait with `start(options)` and settles it (see settle). */
  wait(rec, options, start, expect, counted = true) {
    const w = this.begin(rec, options, counted);
    let promise;
    try {
      promise = start(options);
    } catch (error) {
      this.violation('errors', `${rec.name}: a waiting method threw synchronously: ${describe(error)}`);
      promise = Promise.reject(error);
    }
    return this.settle(w, promise, expect);
  }

  /** Why a wait was rejected; anything not expected is a violation. */
  classify(error, options, expect) {
    const signal = options?.signal;
    if (signal?.aborted && error === signal.reason) return 'abort';
    if (isTimeoutError(error)) return 'timeout';
    if (error instanceof QueueShutDownError) return 'shutdown';
    if (error instanceof BrokenBarrierError) return 'broken';
    const expected = expect?.(error);
    if (expected) return expected === true ? 'expected' : expected;
    this.violation('errors', `unexpected rejection: ${describe(error)}`);
    return 'unexpected';
  }

  // -------------------------------------------------------------------------------------------
  // Actors, pausing and draining

  /** Runs `step` in a loop until the run ends; it parks while the run is paused. */
  spawn(name, step) {
    this.actors++;
    const run = async () => {
      while (await this.next()) await step();
    };
    run()
      .catch((error) => this.violation('errors', `actor ${name} threw: ${error?.stack ?? describe(error)}`))
      .finally(() => {
        this.actors--;
      });
  }

  next() {
    if (this.running && !this.pausing) return true;
    return this.#park();
  }

  async #park() {
    if (!this.running) return false;
    this.parked++;
    await this.resumed;
    this.parked--;
    return this.running;
  }

  /**
   * Stops starting new steps and calls `drain()` every 10 ms (which ends what the parked actors'
   * counterparts would have: sets events, aborts signals, shuts queues down) until every actor is
   * parked and no wait is pending, or `ms` have passed (a violation: a wait that never ended).
   */
  async quiesce(drain, ms = 20_000) {
    this.pausing = true;
    this.resumed = new Promise((resolve) => {
      this.resume = resolve;
    });
    for (const wake of [...this.napping]) wake();
    const deadline = performance.now() + ms;
    // A Deadline left to expire is no wait, but its timer must be gone too.
    while (this.parked < this.actors || this.pending > 0 || this.#helperRegistrations().active > 0) {
      drain();
      if (performance.now() > deadline) {
        const stuck = [...this.records].filter((r) => r.pending > 0).map((r) => `${r.name}: ${r.pending}`);
        this.violation(
          'quiesce',
          `${this.label}: ${this.pending} waits still pending and ${this.actors - this.parked} actors busy after ${ms} ms (${stuck.join(', ')})`,
        );
        return false;
      }
      await this.delay(10);
      if (process.env.SOAK_DEBUG && performance.now() - (this.debugAt ?? 0) > 1000) {
        this.debugAt = performance.now();
        const stuck = [...this.records].filter((r) => r.pending > 0).map((r) => `${r.name}: ${r.pending}`);
        console.log(
          `${this.label} quiescing: ${this.pending} pending, ${this.actors - this.parked} busy: ${stuck.join(', ')}`,
        );
      }
    }
    // The idle sweep (next macrotask) releases timers and listeners no wait needs any more.
    for (let i = 0; i < 3; i++) await nextMacrotask();
    return true;
  }

  unpause() {
    this.pausing = false;
    this.resume();
  }

  stop() {
    this.running = false;
    this.pausing = false;
    for (const wake of [...this.napping]) wake();
    this.resume();
  }

  // -------------------------------------------------------------------------------------------
  // Violations

  violation(check, message) {
    let v = this.violations.get(check);
    if (v === undefined) {
      v = { count: 0, first: [] };
      this.violations.set(check, v);
    }
    v.count++;
    if (v.first.length < 5) v.first.push(message);
    this.onViolation?.(check, message, v.count);
  }

  violationCount(check) {
    return this.violations.get(check)?.count ?? 0;
  }

  // -------------------------------------------------------------------------------------------
  // The synchronous checks, run in a macrotask (see the header)

  /** Every check that holds at any moment; updates `this.last` with what it saw. */
  sample() {
    this.samples++;
    this.#checkRecords();
    this.#checkTimers();
    this.#checkSignals();
  }

  #checkRecords() {
    let primitives = 0;
    let mismatched = 0;
    for (const rec of this.records) {
      const actual = rec.waiters();
      if (actual !== undefined) {
        primitives += rec.prims.length;
        if (actual !== rec.pending) {
          mismatched++;
          this.violation('waiters', `${rec.name}: waiterCount ${actual}, model ${rec.pending} pending`);
        }
      }
      const problem = rec.check?.();
      if (problem) this.violation(rec.kind, `${rec.name}: ${problem}`);
      if (rec.retired && rec.pending === 0 && (rec.done?.() ?? true)) this.records.delete(rec);
    }
    this.last.primitives = primitives;
    this.last.mismatched = mismatched;
  }

  /** The registrations of live Deadlines and linkSignals results: per input signal, and timers. */
  #helperRegistrations() {
    const onSignal = new Map();
    let timers = 0;
    let registered = 0;
    for (const helper of this.helpers) {
      const signal = helper.kind === 'link' ? helper.signal : helper.d.signal;
      // Over for good once disposed or aborted. A Deadline with no deadline and no outer signal
      // registers nothing, but stays: reschedule() can give it a timer.
      if (helper.disposed || signal.aborted) {
        this.helpers.delete(helper);
        const rec = this.signals.get(signal);
        if (rec !== undefined) rec.disposable = true; // it may go once no wait uses it either
        continue;
      }
      const finite = helper.kind === 'deadline' && helper.d.when !== Infinity;
      if (helper.kind === 'deadline' && !finite && helper.inputs.length === 0) continue;
      registered++;
      if (finite) timers++;
      for (const input of helper.inputs) onSignal.set(input, (onSignal.get(input) ?? 0) + 1);
    }
    return { onSignal, timers, registered, active: this.helpers.size };
  }

  #checkTimers() {
    let links = 0;
    let armed = 0;
    let buckets = 0;
    for (const bucket of this.state.buckets.values()) {
      buckets++;
      let n = 0;
      for (let link = bucket.head; link !== null; link = link.next) n++;
      links += n;
      if (bucket.handle !== undefined) armed++;
      // An empty bucket is only waiting for the next sweep to clear its timer.
      if (n === 0 && !bucket.idle)
        this.violation('timers', `the ${bucket.ms} ms bucket is empty and not awaiting the sweep`);
      if (n > 0 && bucket.handle === undefined)
        this.violation('timers', `the ${bucket.ms} ms bucket has waits and no timer`);
    }
    const { timers } = this.#helperRegistrations();
    const timedBound = this.timed + timers;
    if (links > timedBound) {
      this.violation(
        'timers',
        `${links} waits linked to timers, but only ${timedBound} timed waits pending: ${this.#linkReport()}`,
      );
    }
    let active = 0;
    for (const resource of process.getActiveResourcesInfo()) if (resource === 'Timeout') active++;
    const extra = this.extraTimers();
    const bound = this.ownTimers + armed + extra;
    if (active > bound) {
      this.violation(
        'timers',
        `${active} Timeout resources > ${bound} (${this.ownTimers} the soak's own + ${armed} armed buckets + ${extra} adapter idle timers)`,
      );
    }
    this.last.timers = { active, own: this.ownTimers, armed, extra, buckets, links, timedBound };
  }

  /** Which waits hold timer links, by owner and method, against the model's timed waits per record. */
  #linkReport() {
    const byOwner = new Map();
    let settled = 0;
    for (const bucket of this.state.buckets.values()) {
      for (let link = bucket.head; link !== null; link = link.next) {
        const queue = link.waiter.queue;
        if (queue === null) settled++;
        const key = queue === null ? 'settled' : `${queue.owner?.label} ${queue.verb} ${bucket.ms}ms`;
        byOwner.set(key, (byOwner.get(key) ?? 0) + 1);
      }
    }
    const model = [...this.records].filter((r) => r.timed).map((r) => `${r.name} ${r.timed}`);
    const helpers = [...this.helpers].map(
      (h) =>
        `${h.kind}${h.disposed ? ' disposed' : ''}${(h.d ?? h).signal.aborted ? ' aborted' : ''}${h.d ? ` when ${h.d.when === Infinity ? 'inf' : 'finite'}` : ''}`,
    );
    return `links: ${[...byOwner].map(([k, n]) => `${k}: ${n}`).join(', ')}; settled but linked: ${settled}; model: ${model.join(', ')}; helpers: ${helpers.join(', ')}`;
  }

  #checkSignals() {
    const { onSignal } = this.#helperRegistrations();
    let listeners = 0;
    let linked = 0;
    let count = 0;
    for (const [signal, rec] of this.signals) {
      count++;
      const n = getEventListeners(signal, 'abort').length;
      const entry = this.state.signals.get(signal);
      let links = 0;
      if (entry !== undefined) for (let link = entry.head; link !== null; link = link.next) links++;
      const bound = rec.pending + (onSignal.get(signal) ?? 0);
      if (n > 1) this.violation('listeners', `a ${rec.kind} signal has ${n} abort listeners (waitsafe keeps one)`);
      if (signal.aborted && (n > 0 || entry !== undefined)) {
        this.violation('listeners', `an aborted ${rec.kind} signal still has ${n} listeners / its entry`);
      }
      if (links > bound)
        this.violation('listeners', `a ${rec.kind} signal has ${links} waits linked, ${bound} pending`);
      if (n === 1 && entry === undefined)
        this.violation('listeners', `a ${rec.kind} signal has a listener that is not waitsafe's`);
      if (n === 1 && links === 0 && !entry?.idle) {
        this.violation('listeners', `a ${rec.kind} signal keeps a listener with no wait on it and no sweep pending`);
      }
      listeners += n;
      linked += links;
      if (rec.disposable && bound === 0 && n === 0) this.signals.delete(signal);
    }
    this.last.signals = { count, listeners, linked };
  }

  /**
   * The checks of a quiescent moment (every wait settled, the sweep has run): nothing left at all.
   * Returns the problems found (also recorded as violations).
   */
  quietCheck() {
    const problems = [];
    const fail = (check, message) => {
      problems.push(message);
      this.violation(check, `quiescent: ${message}`);
    };
    if (this.pending !== 0) fail('quiesce', `${this.pending} waits pending in the model`);
    for (const rec of this.records) {
      const actual = rec.waiters();
      if (actual) fail('waiters', `${rec.name}: waiterCount ${actual}`);
    }
    if (this.state.buckets.size !== 0) {
      fail('timers', `${this.state.buckets.size} timer buckets left (${[...this.state.buckets.keys()].join(', ')} ms)`);
    }
    if (this.state.idle.length !== 0) fail('timers', `${this.state.idle.length} items left for the idle sweep`);
    const { onSignal, timers } = this.#helperRegistrations();
    if (onSignal.size > 0 || timers > 0)
      fail('listeners', `${this.helpers.size} Deadlines / linked signals still registered`);
    let active = 0;
    for (const resource of process.getActiveResourcesInfo()) if (resource === 'Timeout') active++;
    // Adapters' idle timers have fired by now (the caller waited for them): only the soak's own are left.
    if (active !== this.ownTimers)
      fail('timers', `${active} Timeout resources, expected ${this.ownTimers} (the soak's own)`);
    let listeners = 0;
    for (const signal of this.signals.keys()) {
      listeners += getEventListeners(signal, 'abort').length;
      if (this.state.signals.get(signal) !== undefined) fail('listeners', 'a signal still has its waitsafe entry');
    }
    if (listeners > 0) fail('listeners', `${listeners} abort listeners left on the soak's signals`);
    return problems;
  }

  /** What a thread or child reports to the main thread. */
  report() {
    return {
      label: this.label,
      ops: this.ops,
      pending: this.pending,
      samples: this.samples,
      outcomes: { ...this.outcomes },
      violations: [...this.violations].map(([check, v]) => [check, v.count, v.first]),
      last: this.last,
    };
  }
}

/** The least-squares slope of ys over xs. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * Serves the main thread's requests on `endpoint` ({ send(message), on(listener) }): each
 * request { id, type } is answered with { id, type, data } from `handlers[type](request)`.
 */
export function serve(endpoint, handlers) {
  endpoint.on(async (request) => {
    if (request?.id === undefined) return;
    let data;
    let error;
    try {
      data = await handlers[request.type](request);
    } catch (e) {
      error = e?.stack ?? String(e);
    }
    endpoint.send({ id: request.id, type: request.type, data, error });
  });
}

/** The main thread's side of `serve`: call(type, fields) resolves with the answer's data. */
export function client(endpoint) {
  const pending = new Map();
  let next = 0;
  endpoint.on((message) => {
    const request = pending.get(message?.id);
    if (request === undefined) return;
    pending.delete(message.id);
    if (message.error !== undefined) request.reject(new Error(message.error));
    else request.resolve(message.data);
  });
  return {
    call(type, fields = {}) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        endpoint.send({ id, type, ...fields });
      });
    },
    fail(error) {
      for (const request of pending.values()) request.reject(error);
      pending.clear();
    },
  };
}
