/**
 * The vitest config of `npm run mutate`'s `src/redis` run (stryker.redis.config.mjs): that of the
 * first run (vitest.stryker.config.ts) with the Redis tests that run in the vitest worker back in
 * (`test/redis*.node.test.ts` but the multi-process one). They drive `waitsafe/redis` against a
 * `redis-server` they start, so they can kill the mutants of `src/redis` that only a real server
 * reaches.
 */
import { configDefaults, defineConfig } from 'vitest/config';
import config, { excludedFromMutation } from './vitest.stryker.config.js';

export default defineConfig({
  test: {
    ...config.test,
    exclude: [...configDefaults.exclude, ...excludedFromMutation.filter((file) => file !== 'test/redis.node.test.ts')],
  },
});
