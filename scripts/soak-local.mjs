// The in-process load of the soak run (scripts/soak.mjs): async actors on every primitive of
// `waitsafe`, each doing random operations with random signals (shared pool signals, long-lived
// ones, a signal per wait, linked signals, Deadlines) and timeouts, while other actors set,
// release, shut down, reset and recreate the primitives. Each part returns
// { drain(), resume(), quiet() }: drain ends what parked actors would otherwise have ended (it is
// called every 10 ms while the run is being quiesced), resume undoes it, quiet returns the
// problems of a quiescent moment beyond the generic ones (Env.quietCheck).
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Future,
  LifoQueue,
  Lock,
  LockManager,
  PriorityQueue,
  Queue,
  QueueEmptyError,
  QueueFullError,
  QueueShutDownError,
  ReaderWriterLock,
  Semaphore,
  sleep,
  timeout,
} from '../dist/esm/index.js';
import { Rec } from './soak-lib.mjs';

/** Starts every in-process part; `k` scales the number of actors. */
export function startLocal(env, k = 1) {
  const n = (count) => Math.max(1, Math.round(count * k));
  const target = events(env, n);
  const parts = [
    target,
    locks(env, n),
    semaphores(env, n),
    readerWriter(env, n),
    conditions(env, n),
    barriers(env, n),
    queues(env, n),
    lockManager(env, n),
    futures(env, n),
    helpers(env, n, target.never),
  ];
  return {
    drain() {
      env.abortAll();
      for (const part of parts) part.drain?.();
    },
    resume() {
      for (const part of parts) part.resume?.();
    },
    async quiet() {
      const problems = [];
      for (const part of parts) if (part.quiet) problems.push(...(await part.quiet()));
      return problems;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Event: waiters, setters that set and clear, and a recycler that retires events (set) for new ones

function events(env, n) {
  const slots = [];
  let made = 0;
  const make = (i) => {
    const event = new Event({ name: `soak ${made++}` });
    const check = () => (event.isSet() && event.waiterCount > 0 ? `set, with ${event.waiterCount} waiters` : undefined);
    slots[i] = { event, rec: new Rec(env, `Event ${i}`, [event], { check }) };
  };
  for (let i = 0; i < 3; i++) make(i);
  for (let a = 0; a < n(12); a++) {
    env.spawn('event waiter', async () => {
      const { event, rec } = env.pick(slots);
      await env.wait(rec, env.options(), (o) => event.wait(o));
      await env.hold();
    });
  }
  for (let i = 0; i < slots.length; i++) {
    env.spawn('event setter', async () => {
      await env.delay(1 + env.int(20));
      const { event } = slots[i];
      env.ops++;
      event.set();
      await env.hold();
      env.ops++;
      event.clear();
    });
  }
  env.spawn('event recycler', async () => {
    await env.nap(200 + env.int(2000));
    const i = env.int(slots.length);
    const old = slots[i];
    old.rec.retired = true;
    env.ops++;
    old.event.set();
    make(i);
  });
  // An Event nobody sets: its waits end only by their signal or timeout (the helpers use it).
  const never = { event: new Event({ name: 'never set' }) };
  never.rec = new Rec(env, 'Event never set', [never.event]);
  return {
    never,
    drain() {
      for (const { event } of slots) event.set();
      never.event.set();
    },
    resume() {
      for (const { event } of slots) event.clear();
      never.event.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Lock: acquire / tryAcquire / runExclusive, with a model of the holders

function locks(env, n) {
  const slots = [];
  let made = 0;
  const make = (i) => {
    const lock = new Lock({ name: `soak ${made++}` });
    const m = { held: 0 };
    const rec = new Rec(env, `Lock ${i}`, [lock], {
      kind: 'exclusion',
      check: () => (lock.isLocked() !== m.held > 0 ? `isLocked() ${lock.isLocked()}, ${m.held} holders` : undefined),
      done: () => m.held === 0,
    });
    slots[i] = { lock, rec, m };
  };
  const enter = (s) => {
    if (++s.m.held > 1) env.violation('exclusion', `${s.rec.name}: ${s.m.held} holders at once`);
  };
  const section = async (s, release) => {
    enter(s);
    await env.hold();
    s.m.held--;
    if (release) {
      env.ops++;
      release();
    }
  };
  for (let i = 0; i < 2; i++) make(i);
  for (let a = 0; a < n(16); a++) {
    env.spawn('lock actor', async () => {
      const s = env.pick(slots);
      const r = env.random();
      if (r < 0.1) {
        env.ops++;
        const release = s.lock.tryAcquire();
        if (release) await section(s, release);
      } else if (r < 0.3) {
        const options = env.options();
        const w = env.begin(s.rec, options);
        await env.settle(
          w,
          s.lock.runExclusive(() => {
            env.end(w);
            return section(s);
          }, options),
        );
      } else {
        const out = await env.wait(s.rec, env.options(), (o) => s.lock.acquire(o));
        if (out.ok) await section(s, out.value);
      }
      await env.hold();
    });
  }
  env.spawn('lock recycler', async () => {
    await env.nap(1000 + env.int(3000));
    const i = env.int(slots.length);
    slots[i].rec.retired = true;
    make(i);
  });
  return {};
}

// ---------------------------------------------------------------------------------------------
// Semaphore(5) and BoundedSemaphore(4), weighted: value + held must stay the initial value

function semaphores(env, n) {
  const slots = [];
  const make = (i) => {
    const bounded = i === 1;
    const initial = bounded ? 4 : 5;
    const sem = bounded ? new BoundedSemaphore(initial, { name: 'soak' }) : new Semaphore(initial, { name: 'soak' });
    const m = { held: 0 };
    const rec = new Rec(env, bounded ? 'BoundedSemaphore' : 'Semaphore', [sem], {
      kind: 'exclusion',
      check: () =>
        sem.value + m.held !== initial ? `value ${sem.value} + ${m.held} held != ${initial} permits` : undefined,
      done: () => m.held === 0,
    });
    slots[i] = { sem, rec, m, initial, bounded };
  };
  const section = async (s, weight, release) => {
    s.m.held += weight;
    if (s.m.held > s.initial) env.violation('exclusion', `${s.rec.name}: ${s.m.held} permits held of ${s.initial}`);
    await env.hold();
    s.m.held -= weight;
    if (release) {
      env.ops++;
      release();
      env.ops++;
      release(); // a releaser acts once
    }
  };
  for (let i = 0; i < 2; i++) make(i);
  for (let a = 0; a < n(16); a++) {
    env.spawn('semaphore actor', async () => {
      const s = env.pick(slots);
      const weight = 1 + env.int(3);
      const r = env.random();
      if (r < 0.1) {
        env.ops++;
        const release = s.sem.tryAcquire(weight);
        if (release) await section(s, weight, release);
      } else if (r < 0.2) {
        const options = env.options();
        const w = env.begin(s.rec, options);
        await env.settle(
          w,
          s.sem.runExclusive(() => {
            env.end(w);
            return section(s, 1);
          }, options),
        );
      } else if (r < 0.22 && s.bounded) {
        // A weight above a BoundedSemaphore's value: a RangeError at once, nothing registered.
        const options = env.options();
        options.weight = s.initial + 1;
        await env.wait(
          s.rec,
          options,
          (o) => s.sem.acquire(o),
          (e) => e instanceof RangeError,
        );
      } else {
        const options = env.options();
        options.weight = weight;
        const out = await env.wait(s.rec, options, (o) => s.sem.acquire(o));
        if (out.ok) await section(s, weight, out.value);
      }
      await env.hold();
    });
  }
  env.spawn('semaphore recycler', async () => {
    await env.nap(1000 + env.int(4000));
    const i = env.int(slots.length);
    slots[i].rec.retired = true;
    make(i);
  });
  return {};
}

// ---------------------------------------------------------------------------------------------
// ReaderWriterLock: readers and writers, with a model of both

function readerWriter(env, n) {
  let s;
  const make = () => {
    const rw = new ReaderWriterLock({ name: 'soak' });
    const m = { readers: 0, writers: 0 };
    const rec = new Rec(env, 'ReaderWriterLock', [rw], {
      kind: 'exclusion',
      check: () =>
        rw.readers !== m.readers || rw.isWriteLocked() !== m.writers > 0
          ? `readers ${rw.readers} / writing ${rw.isWriteLocked()}, model ${m.readers} readers, ${m.writers} writers`
          : undefined,
      done: () => m.readers === 0 && m.writers === 0,
    });
    s = { rw, rec, m };
  };
  const section = async (t, write, release) => {
    if (write) {
      if (t.m.writers > 0 || t.m.readers > 0) {
        env.violation(
          'exclusion',
          `ReaderWriterLock: a writer got in with ${t.m.writers} writers, ${t.m.readers} readers`,
        );
      }
      t.m.writers++;
    } else {
      if (t.m.writers > 0) env.violation('exclusion', 'ReaderWriterLock: a reader got in while a writer holds it');
      t.m.readers++;
    }
    await env.hold();
    if (write) t.m.writers--;
    else t.m.readers--;
    if (release) {
      env.ops++;
      release();
    }
  };
  make();
  for (let a = 0; a < n(16); a++) {
    env.spawn('reader-writer actor', async () => {
      const t = s;
      const write = env.chance(0.3);
      const r = env.random();
      if (r < 0.1) {
        env.ops++;
        const release = write ? t.rw.tryAcquireWrite() : t.rw.tryAcquireRead();
        if (release) await section(t, write, release);
      } else if (r < 0.3) {
        const options = env.options();
        const w = env.begin(t.rec, options);
        const fn = () => {
          env.end(w);
          return section(t, write);
        };
        await env.settle(w, write ? t.rw.runWrite(fn, options) : t.rw.runRead(fn, options));
      } else {
        const out = await env.wait(t.rec, env.options(), (o) => (write ? t.rw.acquireWrite(o) : t.rw.acquireRead(o)));
        if (out.ok) await section(t, write, out.value);
      }
      await env.hold();
    });
  }
  env.spawn('reader-writer recycler', async () => {
    await env.nap(2000 + env.int(4000));
    s.rec.retired = true;
    make();
  });
  return {};
}

// ---------------------------------------------------------------------------------------------
// Condition: a bounded buffer, two conditions (not full, not empty) over one lock

function conditions(env, n) {
  const CAP = 4;
  const lock = new Lock({ name: 'soak condition' });
  const notFull = new Condition(lock, { name: 'not full' });
  const notEmpty = new Condition(lock, { name: 'not empty' });
  const buffer = [];
  const m = { inside: false };
  const rec = new Rec(env, 'Condition', [lock, notFull, notEmpty], {
    kind: 'exclusion',
    check: () => (buffer.length > CAP ? `${buffer.length} items in a buffer of ${CAP}` : undefined),
  });
  const enter = (what) => {
    if (m.inside) env.violation('exclusion', `Condition: two tasks hold the lock (${what})`);
    if (!lock.isLocked()) env.violation('exclusion', `Condition: the lock is not held (${what})`);
    m.inside = true;
  };
  const leave = () => {
    m.inside = false;
  };
  let item = 0;
  const actor = (producer) => async () => {
    const acquired = await env.wait(rec, env.options(), (o) => lock.acquire(o));
    if (!acquired.ok) return env.hold();
    enter('acquire');
    try {
      const cond = producer ? notFull : notEmpty;
      const ready = () => (producer ? buffer.length < CAP : buffer.length > 0);
      let ok = true;
      if (env.chance(0.5)) {
        leave();
        const out = await env.wait(rec, env.options(), (o) => cond.waitFor(() => ready() || env.pausing, o));
        enter(`waitFor ${out.ok ? 'resolved' : out.why}`); // the lock is held however it ended
        ok = out.ok;
      } else {
        while (ok && !ready() && !env.pausing) {
          leave();
          const out = await env.wait(rec, env.options(), (o) => cond.wait(o));
          enter(`wait ${out.ok ? 'resolved' : out.why}`);
          ok = out.ok;
        }
      }
      if (ok && ready()) {
        env.ops += 2;
        if (producer) buffer.push(item++);
        else buffer.shift();
        if (env.chance(0.2)) (producer ? notEmpty : notFull).notifyAll();
        else (producer ? notEmpty : notFull).notify(1 + env.int(2));
      }
      await env.hold();
    } finally {
      leave();
      env.ops++;
      acquired.value();
    }
    return env.hold();
  };
  for (let a = 0; a < n(8); a++) {
    env.spawn('condition producer', actor(true));
    env.spawn('condition consumer', actor(false));
  }
  let draining = false;
  return {
    drain() {
      // Wake every waiter: with the run pausing, their predicates are true.
      if (draining) return;
      draining = true;
      env
        .wait(rec, {}, () => lock.acquire())
        .then((out) => {
          notFull.notifyAll();
          notEmpty.notifyAll();
          out.value();
          draining = false;
        });
    },
    quiet: () => (lock.isLocked() ? ['Condition: the lock is still held'] : []),
  };
}

// ---------------------------------------------------------------------------------------------
// Barrier(3) and Barrier(2): parties that give up, resets and aborts, new barriers

function barriers(env, n) {
  const slots = [];
  const make = (i) => {
    const parties = i === 0 ? 3 : 2;
    const barrier = new Barrier(parties, { name: 'soak' });
    const check = () =>
      barrier.waiterCount >= parties ? `${barrier.waiterCount} waiting for a round of ${parties}` : undefined;
    slots[i] = { barrier, rec: new Rec(env, `Barrier(${parties})`, [barrier], { check }) };
  };
  for (let i = 0; i < 2; i++) make(i);
  for (let a = 0; a < n(10); a++) {
    env.spawn('barrier party', async () => {
      const s = env.pick(slots);
      await env.wait(s.rec, env.options({ plain: false }), (o) => s.barrier.wait(o));
      await env.hold();
    });
  }
  env.spawn('barrier breaker', async () => {
    await env.delay(20 + env.int(300));
    const i = env.int(slots.length);
    const s = slots[i];
    env.ops++;
    const r = env.random();
    if (r < 0.4) s.barrier.reset();
    else if (r < 0.7) {
      s.barrier.abort();
      await env.delay(env.int(20));
      env.ops++;
      s.barrier.reset();
    } else {
      s.rec.retired = true;
      s.barrier.abort();
      make(i);
    }
  });
  return {
    drain() {
      for (const { barrier } of slots) barrier.abort();
    },
    resume() {
      for (const { barrier } of slots) barrier.reset();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Queue, PriorityQueue, LifoQueue: producers, consumers (taskDone), joiners, shutdowns, new queues

function queues(env, n) {
  const kinds = [
    ['Queue', () => new Queue({ name: 'soak', maxSize: env.pick([0, 3]) })],
    ['PriorityQueue', () => new PriorityQueue({ name: 'soak', maxSize: 5 })],
    ['LifoQueue', () => new LifoQueue({ name: 'soak', maxSize: env.pick([0, 2]) })],
  ];
  const slots = [];
  const make = (i) => {
    const q = kinds[i][1]();
    // Items put = items got + items held + items discarded by shutdown(true), at every moment.
    const m = { put: 0, got: 0, discarded: 0 };
    const rec = new Rec(env, kinds[i][0], [q], {
      kind: 'items',
      check: () =>
        m.put - m.got - m.discarded !== q.size
          ? `${m.put} put - ${m.got} got - ${m.discarded} discarded != size ${q.size}`
          : undefined,
    });
    slots[i] = { q, rec, m };
  };
  const shutdown = (s, immediate) => {
    env.ops++;
    if (immediate) s.m.discarded += s.q.size; // what shutdown(true) discards
    s.q.shutdown(immediate);
  };
  for (let i = 0; i < kinds.length; i++) make(i);
  let item = 0;
  for (let a = 0; a < n(8); a++) {
    env.spawn('queue producer', async () => {
      const s = env.pick(slots);
      const value = item++ % 1000;
      if (env.chance(0.2)) {
        env.ops++;
        try {
          s.q.putNowait(value);
          s.m.put++;
        } catch (error) {
          if (!(error instanceof QueueFullError || error instanceof QueueShutDownError)) throw error;
        }
      } else {
        const out = await env.wait(s.rec, env.options(), (o) => s.q.put(value, o));
        if (out.ok) s.m.put++;
      }
      await env.hold();
    });
    env.spawn('queue consumer', async () => {
      const s = env.pick(slots);
      let got = false;
      if (env.chance(0.2)) {
        env.ops++;
        try {
          s.q.getNowait();
          got = true;
        } catch (error) {
          if (!(error instanceof QueueEmptyError || error instanceof QueueShutDownError)) throw error;
        }
      } else {
        got = (await env.wait(s.rec, env.options(), (o) => s.q.get(o))).ok;
      }
      if (got) {
        s.m.got++;
        await env.hold();
        env.ops++;
        s.q.taskDone();
      }
      await env.hold();
    });
  }
  for (let a = 0; a < n(3); a++) {
    env.spawn('queue joiner', async () => {
      const s = env.pick(slots);
      await env.wait(s.rec, env.options({ plain: false }), (o) => s.q.join(o));
      await env.hold();
    });
  }
  env.spawn('queue shutdown', async () => {
    await env.nap(100 + env.int(1500));
    const i = env.int(slots.length);
    const s = slots[i];
    shutdown(s, env.chance(0.5));
    await env.hold(); // actors meanwhile find it shut down (a join may still wait on it)
    s.rec.retired = true;
    make(i);
  });
  return {
    drain() {
      for (const s of slots) if (!s.q.isShutDown()) shutdown(s, true);
    },
    resume() {
      for (let i = 0; i < slots.length; i++) {
        slots[i].rec.retired = true;
        make(i);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// LockManager: exclusive and shared requests on a few names and on names used once, ifAvailable,
// steal (on name "c" only), checked against query()

function lockManager(env, n) {
  let s;
  let unique = 0;
  const make = () => {
    const lm = new LockManager({ name: 'soak' });
    const m = { holds: new Set(), names: new Map() };
    const rec = new Rec(env, 'LockManager', [lm], {
      kind: 'exclusion',
      check: () => {
        // query() takes its snapshot synchronously: compare with the model of this same moment.
        let held = 0;
        for (const h of m.holds) if (h.granted && !h.stolen) held++;
        const waiters = lm.waiterCount;
        lm.query().then(({ held: holds, pending }) => {
          if (holds.length !== held)
            env.violation('exclusion', `LockManager: query() holds ${holds.length}, model ${held}`);
          if (pending.length !== waiters) {
            env.violation('waiters', `LockManager: query() lists ${pending.length} pending, waiterCount ${waiters}`);
          }
          const byName = new Map();
          for (const { name, mode } of holds) {
            const c = byName.get(name) ?? { exclusive: 0, shared: 0 };
            c[mode]++;
            byName.set(name, c);
          }
          for (const [name, c] of byName) {
            if (c.exclusive > 1 || (c.exclusive > 0 && c.shared > 0)) {
              env.violation('exclusion', `LockManager: "${name}" held ${c.exclusive} exclusive + ${c.shared} shared`);
            }
          }
        });
        return undefined;
      },
      done: () => m.holds.size === 0,
    });
    s = { lm, rec, m };
  };
  make();
  const callback = (t, h, w) => async (lock) => {
    if (w) env.end(w);
    h.granted = lock !== null;
    t.m.holds.add(h);
    // Per-name exclusion, except on "c" where steal legitimately overlaps a stolen holder.
    const c = t.m.names.get(h.name) ?? { exclusive: 0, shared: 0 };
    t.m.names.set(h.name, c);
    if (h.granted && h.name !== 'c') {
      if (c.exclusive > 0 || (h.mode === 'exclusive' && c.shared > 0)) {
        env.violation('exclusion', `LockManager: "${h.name}" ${h.mode} granted over ${c.exclusive}x/${c.shared}s`);
      }
      c[h.mode]++;
    }
    await env.hold();
    if (h.granted && h.name !== 'c') c[h.mode]--;
    if (c.exclusive === 0 && c.shared === 0) t.m.names.delete(h.name);
    t.m.holds.delete(h);
    return h.name;
  };
  const stolen = (h) => (e) => {
    if (e instanceof DOMException && e.name === 'AbortError') {
      h.stolen = true;
      return 'expected';
    }
    return false;
  };
  for (let a = 0; a < n(20); a++) {
    env.spawn('lock manager actor', async () => {
      const t = s;
      const name = env.chance(0.1) ? `once ${unique++}` : env.pick(['a', 'b', 'c']);
      const mode = env.chance(0.35) ? 'shared' : 'exclusive';
      const h = { name, mode, granted: false, stolen: false };
      const r = env.random();
      if (r < 0.08) {
        env.ops++;
        const p = t.lm.request(name, { ifAvailable: true, mode }, callback(t, h));
        await p.catch((e) => {
          if (!stolen(h)(e)) env.violation('errors', `LockManager ifAvailable: ${e}`);
        });
      } else if (r < 0.1 && name === 'c') {
        h.mode = 'exclusive';
        env.ops++;
        const p = t.lm.request(name, { steal: true }, callback(t, h));
        await p.catch((e) => {
          if (!stolen(h)(e)) env.violation('errors', `LockManager steal: ${e}`);
        });
      } else {
        const options = env.options();
        options.mode = mode;
        const w = env.begin(t.rec, options);
        await env.settle(w, t.lm.request(name, options, callback(t, h, w)), stolen(h));
      }
      await env.hold();
    });
  }
  env.spawn('lock manager recycler', async () => {
    await env.nap(3000 + env.int(5000));
    s.rec.retired = true;
    make();
  });
  return {
    async quiet() {
      const { held, pending } = await s.lm.query();
      return held.length + pending.length > 0 ? [`LockManager: ${held.length} held, ${pending.length} pending`] : [];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Future: waiters on a few futures, each set with a result or an exception and replaced

const FAILURE = { soak: 'future failed' };

function futures(env, n) {
  const slots = [];
  const make = (i) => {
    const f = new Future({ name: 'soak' });
    const check = () => (f.done() && f.waiterCount > 0 ? `done, with ${f.waiterCount} waiters` : undefined);
    slots[i] = { f, rec: new Rec(env, 'Future', [f], { check }) };
  };
  const settle = (s) => {
    if (s.f.done()) return;
    env.ops++;
    if (env.chance(0.7)) s.f.setResult(env.int(100));
    else s.f.setException(FAILURE);
  };
  for (let i = 0; i < 4; i++) make(i);
  for (let a = 0; a < n(12); a++) {
    env.spawn('future waiter', async () => {
      const s = env.pick(slots);
      await env.wait(
        s.rec,
        env.options(),
        (o) => s.f.wait(o),
        (e) => (e === FAILURE ? 'failed' : false),
      );
      await env.hold();
    });
  }
  for (let a = 0; a < 2; a++) {
    env.spawn('future setter', async () => {
      await env.delay(1 + env.int(30));
      const i = env.int(slots.length);
      settle(slots[i]);
      slots[i].rec.retired = true;
      make(i);
    });
  }
  return {
    drain() {
      for (const s of slots) settle(s);
    },
    resume() {
      for (let i = 0; i < slots.length; i++) {
        slots[i].rec.retired = true;
        make(i);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// sleep, timeout(), Deadline, linkSignals: on the shared timers and listeners

function helpers(env, n, never) {
  const rec = new Rec(env, 'helpers', null);
  const SHORT = [0, 1, 2, 5, 10, 20, 50];
  /** A wait inside a helper, on `signal`: the never-set Event (ends by abort or timeout) or a sleep. */
  const inner = (signal, endless) => {
    if (env.chance(0.5)) {
      const options = { signal };
      if (endless || env.chance(0.5)) options.timeout = env.pick(SHORT.slice(1));
      return env.wait(never.rec, options, (o) => never.event.wait(o));
    }
    const ms = env.pick(SHORT);
    return env.wait(rec, { signal, timeout: ms }, () => sleep(ms, { signal }));
  };
  for (let a = 0; a < n(16); a++) {
    env.spawn('helper actor', async () => {
      const r = env.random();
      if (r < 0.3) {
        // sleep(ms), sleep(ms, { signal }), sleep(Infinity, { signal that aborts })
        const picked = env.chance(0.5) ? env.signal() : undefined;
        const ms = picked?.ends && env.chance(0.2) ? Infinity : env.pick(SHORT);
        const options = picked === undefined ? { timeout: ms } : { timeout: ms, signal: picked.signal };
        if (picked?.dispose) env.cleanups.set(options, picked.dispose);
        await env.wait(rec, options, () => sleep(ms, picked === undefined ? undefined : { signal: picked.signal }));
      } else if (r < 0.55) {
        // timeout(ms, fn, { signal }): fn waits on its signal; the call is one registration
        const picked = env.chance(0.5) ? env.signal() : undefined;
        const ms = env.pick(SHORT.slice(1).concat([100]));
        const options = picked === undefined ? { timeout: ms } : { timeout: ms, signal: picked.signal };
        if (picked?.dispose) env.cleanups.set(options, picked.dispose);
        const fn = async (signal) => {
          const sig = env.addSignal(signal, 'timeout()', false);
          try {
            await inner(signal, false);
            if (env.chance(0.5)) await inner(signal, false);
          } finally {
            sig.disposable = true;
          }
          return 1;
        };
        await env.wait(rec, options, () =>
          timeout(ms, fn, picked === undefined ? undefined : { signal: picked.signal }),
        );
      } else if (r < 0.8) {
        // A Deadline over 1-3 waits, maybe moved; disposed, or left to expire
        const picked = env.chance(0.5) ? env.signal() : undefined;
        const ms = env.pick([1, 2, 5, 10, 20, 50, 100, Infinity]);
        const { d, dispose } = env.deadline(ms, picked?.signal);
        const endless = ms === Infinity && !picked?.ends;
        try {
          for (let i = 1 + env.int(3); i > 0; i--) {
            await inner(d.signal, endless || ms === Infinity);
            if (env.chance(0.2) && !d.signal.aborted) {
              env.ops++;
              d.reschedule(env.pick([1, 5, 20, 50]));
            }
          }
        } finally {
          if (env.chance(0.85) || d.when === Infinity) dispose();
          picked?.dispose?.();
        }
      } else {
        // linkSignals of 2-3 inputs, one of them an own signal that may abort; disposed after
        const own = new AbortController();
        env.addSignal(own.signal, 'own');
        const inputs = [own.signal, env.pick(env.pool).signal];
        if (env.chance(0.5)) inputs.push(env.pick(env.longLived).signal);
        const linked = env.link(inputs);
        try {
          await inner(linked.signal, true);
          if (env.chance(0.3)) {
            env.ops++;
            own.abort(env.reason());
          }
          await inner(linked.signal, true);
        } finally {
          if (env.chance(0.8)) linked.dispose();
          else {
            env.ops++;
            own.abort(env.reason());
          }
        }
      }
      await env.hold();
    });
  }
  return {};
}
