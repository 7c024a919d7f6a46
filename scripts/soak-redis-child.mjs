// The child process of the soak run's waitsafe/redis part (scripts/soak.mjs forks it): the same
// actors as the main process (scripts/soak-redis.mjs) on the same Redis names, through its own
// ioredis client, with its own model and checks, answering the main process's requests over IPC.
// It exits when the main process goes away.
import { Redis } from 'ioredis';
import { PROCESS } from '../dist/esm/redis/common.js';
import { ioredis, RedisEvent, RedisLock, RedisSemaphore } from '../dist/esm/redis/index.js';
import { Env, serve } from './soak-lib.mjs';
import { connect, IDLE_TIMEOUT, startRedisLoad } from './soak-redis.mjs';
import { startChurn } from './soak-shared.mjs';

process.on('disconnect', () => process.exit(0));
const [port, seed, k] = process.argv.slice(2).map(Number);
const env = new Env({ seed, label: `redis child ${process.pid}` });
env.onViolation = (check, message, count) => {
  if (count <= 3) process.send({ type: 'violation', check, message });
};
env.extraTimers = () => 1; // the adapter's idle timer: at most one at a time
env.initSignals();
process.on('unhandledRejection', (reason) =>
  env.violation('errors', `unhandled rejection: ${reason?.stack ?? reason}`),
);
const client = await connect(Redis, port);
client.on('error', (error) => env.violation('redis', `client error: ${error.message}`));
const load = startRedisLoad(
  env,
  ioredis(client, { idleTimeout: IDLE_TIMEOUT }),
  { RedisEvent, RedisLock, RedisSemaphore },
  (c) => Math.max(1, Math.round(c * k)),
);
startChurn(env);
const sampler = () => {
  env.sample();
  if (env.running) env.timer(sampler, env.sampleDelay());
};
env.timer(sampler, 100);

serve(
  { send: (message) => process.send(message), on: (listener) => process.on('message', listener) },
  {
    ready: () => ({ process: PROCESS }),
    report: ({ gc }) => {
      let heap;
      if (gc && typeof globalThis.gc === 'function') {
        globalThis.gc();
        heap = process.memoryUsage().heapUsed;
      }
      return { ...env.report(), heap, lost: load.m.lost };
    },
    quiesce: async () => {
      await env.quiesce(() => {
        env.abortAll();
        load.drain();
      });
      await load.settle();
      // The adapter's subscription connection closes IDLE_TIMEOUT ms after its last channel.
      await env.delay(IDLE_TIMEOUT + 200);
      env.sample();
      const problems = env.quietCheck();
      return { ...env.report(), problems };
    },
    resume: () => {
      env.unpause();
      return true;
    },
    stop: async () => {
      env.stop();
      for (let i = 0; i < 300 && env.actors > 0; i++) await env.delay(10);
      client.disconnect();
      return env.report();
    },
  },
);
