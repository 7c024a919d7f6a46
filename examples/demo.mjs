// examples/demo.mjs: finding a waiter leak in a running process with waitsafe/inspect.
//
//   npm run demo     (or: npm run build --silent && node examples/demo.mjs; ends by itself in ~18 s)
//
// A small service-like program. Most of what it does is normal churn: each request waits on its
// own Event until a fake upstream answers (within 0.4 s), then queues for a connection pool (a
// Semaphore) that bursts of requests keep filling and draining. Hidden in it is the leak of the
// incident this inspector was built for: sessions are kept in a Map that is never pruned, each
// has an `idReady` Event that callers wait on, and for some sessions the id never arrives, so
// their callers wait forever (or for ten minutes, which in a busy service is the same thing).
//
// Two WaiterMonitors watch the same process every 2 s:
//
// - cumulative (baseline 'first'): every report is a diff against the snapshot taken at start-up,
//   so the leak adds up, report after report, until it dwarfs the churn;
// - rolling (baseline 'previous'): every report is a diff against the previous one, so a leak
//   that grows by a couple of dozen waiters per interval competes with bursts of up to a hundred,
//   and the top row changes from one report to the next.
//
// See docs/diagnosing-leaks.md for how to read the tables.

import { Event, Semaphore, sleep } from '../dist/esm/index.js';
import { trackWaiters, WaiterMonitor } from '../dist/esm/inspect/index.js';

// Track first: only primitives created while tracking is on appear in snapshots. `stacks` adds
// the file and line that created each primitive to its row (a stack capture per construction).
const stopTracking = trackWaiters({ stacks: true });

const INTERVAL = 2_000; // ms between reports
const RUN_FOR = 16_500; // ms of traffic: 8 reports from each monitor
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

/** A small seeded PRNG, so that runs look alike (timing still varies a little between runs). */
let seed = 0x2545f491;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
/** A random integer in [min, max]. */
const between = (min, max) => min + Math.floor(random() * (max - min + 1));

// ---------------------------------------------------------------------------------------------
// Normal churn: a pool of 6 connections, and requests that arrive in bursts.

const pool = new Semaphore(6, { name: 'pool' });
const inFlight = new Set();

/** One request: call an upstream service and wait for its answer, then store it in the pool. */
async function handleRequest() {
  // A per-request Event, set when the upstream answers (10 to 400 ms later): it has a waiter
  // for a moment, then becomes garbage (tracking is weak, so it drops out of the snapshots).
  const response = new Event({ name: 'response' });
  setTimeout(() => response.set(), between(10, 400));
  await response.wait({ timeout: 5_000 });

  const release = await pool.acquire({ timeout: 10_000 });
  try {
    await sleep(between(30, 100)); // work done while holding the connection
  } finally {
    release();
  }
}

function request() {
  const p = handleRequest().catch((error) => console.error('request failed:', error));
  inFlight.add(p);
  p.finally(() => inFlight.delete(p));
}

/**
 * Traffic comes in bursts: every 0.3 to 1 s, 10 to 90 requests at once. The pool serves about 90
 * a second, so its queue jumps by up to a hundred waiters, drains, and jumps again.
 */
let trafficTimer;
function traffic() {
  const size = between(10, 90);
  for (let i = 0; i < size; i++) request();
  trafficTimer = setTimeout(traffic, between(300, 1_000));
}

// ---------------------------------------------------------------------------------------------
// The leak: sessions in a Map that is never pruned, each with an idReady Event.

const sessions = new Map();
let nextSession = 0;

function openSession() {
  const session = {
    key: `s${nextSession++}`,
    id: undefined,
    // The leaking primitive. With `stacks`, its row in the tables reads
    // `Event "idReady"  at examples/demo.mjs:<this line>`.
    idReady: new Event({ name: 'idReady' }),
  };
  sessions.set(session.key, session); // ...and nothing ever deletes it: the first bug.

  // The id service answers most sessions quickly. One in three replies is lost: the second bug,
  // which only matters because of the first (and of the callers below).
  if (random() >= 1 / 3) {
    setTimeout(
      () => {
        session.id = `id-${session.key}`;
        session.idReady.set();
      },
      between(5, 100),
    );
  }

  // One to four callers need the id. In the incident's old code they raced the Event against a
  // timer with Promise.race; here some simply wait, and some wait with a "very long" timeout.
  const callers = between(1, 4);
  for (let i = 0; i < callers; i++) void sessionId(session, i % 2 === 0);
}

/** What a caller does to get a session's id. */
async function sessionId(session, patient) {
  if (patient) await session.idReady.wait();
  else await session.idReady.wait({ timeout: 10 * 60_000 });
  return session.id;
}

/** About 15 new sessions a second. */
let sessionTimer;
function scheduleSession() {
  sessionTimer = setTimeout(
    () => {
      openSession();
      scheduleSession();
    },
    between(50, 85),
  );
}

// ---------------------------------------------------------------------------------------------
// Two monitors over the same primitives: cumulative and rolling.

/** Prints a report: a title line, then the diff's table, indented. */
function printer(title) {
  return (diff) => {
    const table = String(diff)
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n');
    console.log(`${title}, at ${elapsed()}\n${table}\n`);
  };
}

/** The last cumulative report, for the conclusion. */
let last;
const cumulative = new WaiterMonitor({
  interval: INTERVAL,
  baseline: 'first', // the default; spelled out for the comparison
  report(diff, now) {
    last = { diff, now, at: elapsed() };
    printer('cumulative (vs first snapshot)')(diff);
  },
}).start();
const rolling = new WaiterMonitor({
  interval: INTERVAL,
  baseline: 'previous',
  report: printer('rolling (vs previous)'),
}).start();
// Both monitors' timers fire in the same turn, the cumulative one first, so each pair of
// tables describes (almost) the same moment.

// ---------------------------------------------------------------------------------------------
// Run, then clean up everything and conclude.

console.log(
  `demo: ${RUN_FOR / 1000} s of traffic (bursts of requests on a pool of 6, about 15 new sessions a second); ` +
    `a report every ${INTERVAL / 1000} s from each monitor\n`,
);
traffic();
scheduleSession();
await sleep(RUN_FOR);

// Stop the traffic and the monitors, let the requests in flight finish.
clearTimeout(trafficTimer);
clearTimeout(sessionTimer);
cumulative.stop();
rolling.stop();
await Promise.allSettled([...inFlight]);

// The suspect, as a human would look at it in a debugger or a REPL.
const stuck = [...sessions.values()].filter((s) => !s.idReady.isSet());
const waiting = stuck.reduce((sum, s) => sum + s.idReady.waiterCount, 0);
console.log(
  `${sessions.size} sessions in the Map, ${stuck.length} without an id, ${waiting} callers waiting on them; ` +
    `one of them: ${String(stuck[0]?.idReady)}`,
);

// Release the stuck callers and drop the sessions, so the process exits by itself: nothing of
// the waits (no timer, no listener) is left behind.
for (const s of stuck) s.idReady.set();
sessions.clear();
stopTracking();

// The top row of the last cumulative report, written the way the tables write it.
const top = last?.diff.rows[0];
if (top === undefined) {
  console.log('conclusion: no report was made');
} else {
  const name = top.name === undefined ? '' : ` ${JSON.stringify(top.name)}`;
  const site = top.site === undefined ? '' : `  at ${top.site}`;
  const share = last.now.waiters === 0 ? 0 : (100 * top.waiters) / last.now.waiters;
  console.log(
    `conclusion: the leak is ${top.kind}${name}${site} (top cumulative row at ${last.at}: ` +
      `+${top.waitersDelta} waiters, ${share.toFixed(0)}% of all, on +${top.primitivesDelta} primitives)`,
  );
}
