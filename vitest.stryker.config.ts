/**
 * The vitest config of `npm run mutate` (stryker.config.mjs; CONTRIBUTING.md, "Mutation testing"):
 * the `node` project of vitest.config.ts alone, taken from it so that the two cannot drift apart,
 * without the test files listed in `excludedFromMutation`.
 */
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import config from './vitest.config.js';

/**
 * The test files that spawn processes. Stryker switches a mutant on through a global of the vitest
 * worker, so what runs in a child process (or from a copy of the sources that a test builds) runs
 * the original code and cannot kill a mutant. What runs in the worker could (redis.node.test.ts
 * drives waitsafe/redis from it), but needs a redis-server, and these are the slowest files of the
 * suite, run again for every mutant they cover. CONTRIBUTING.md says what their absence leaves
 * uncovered.
 */
export const excludedFromMutation = [
  // waitsafe/redis against real redis-server processes (the in-process and the multi-process tests).
  'test/redis.node.test.ts',
  'test/redis-processes.node.test.ts',
  // Two builds of the package (tsc, esbuild) loaded together in child processes.
  'test/packaging.node.test.ts',
  // The TSDoc examples: type-checked by a tsc child process, then run.
  'test/tsdoc-examples.node.test.ts',
  // Fixtures compiled by tsc and run in child processes (`using`, timers keeping a process alive).
  'test/inspect.node.test.ts',
  'test/releaser.node.test.ts',
  'test/timeouts.node.test.ts',
];

/** The test files that drive `waitsafe/redis` against a redis-server from the vitest worker. */
export const REDIS_IN_WORKER = 'test/redis*.node.test.ts';

const node = config.test?.projects?.find(
  (project): project is TestProjectInlineConfiguration =>
    typeof project === 'object' && 'test' in project && project.test?.name === 'node',
);
if (node?.test === undefined) throw new Error('vitest.stryker.config.ts: vitest.config.ts has no `node` project');

export default defineConfig({
  test: {
    ...node.test,
    // The Redis tests in the worker, too: they serve only the src/redis run (vitest.stryker-redis.config.ts).
    exclude: [...configDefaults.exclude, ...excludedFromMutation, REDIS_IN_WORKER],
    // Stryker runs vitest in worker threads, which take no V8 flags: stryker.config.mjs starts its
    // test-runner process with --expose-gc instead, and the GC tests' threads get `gc()` from it.
    execArgv: [],
  },
});
