/**
 * `npm run mutate`'s second run: `src/redis` against a real `redis-server` (CONTRIBUTING.md,
 * "Mutation testing"). Its tests (`test/redis.node.test.ts`) start their own server on a free
 * loopback port; they wait on Redis more than they compute, so this run takes more test runners
 * than the first. Everything else is as in `stryker.config.mjs`, with its own incremental file
 * and report.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
import base from './stryker.config.mjs';

export default {
  ...base,
  vitest: { configFile: 'vitest.stryker-redis.config.ts' },
  mutate: ['src/redis/**/*.ts'],
  incrementalFile: 'reports/stryker-incremental-redis.json',
  htmlReporter: { fileName: 'reports/mutation-redis/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation-redis/mutation.json' },
  concurrency: 3,
};
