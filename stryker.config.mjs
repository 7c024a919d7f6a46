/**
 * `npm run mutate`'s first run: mutation testing of src/ with Stryker and its vitest runner
 * (CONTRIBUTING.md, "Mutation testing"); `scripts/mutate.mjs` runs it, then `src/redis` with
 * stryker.redis.config.mjs. `npm run mutate -- --mutate src/core/stores.ts` restricts it to one
 * file; any option below can be overridden on the command line that way.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  // The `node` vitest project only, without the tests that spawn processes.
  vitest: { configFile: 'vitest.stryker.config.ts' },
  // All of src/ but src/redis, which `npm run mutate` then runs with its Redis tests
  // (stryker.redis.config.mjs).
  mutate: ['src/**/*.ts', '!src/redis/**/*.ts'],
  // Not copied into the sandbox: the build (no test of this run reads it; a clean clone has none).
  ignorePatterns: ['/dist'],
  // Each mutant runs only the tests that reached it in the initial run.
  coverageAnalysis: 'perTest',
  // A static mutant is one reached outside any test (loading a module, a describe body, a hook, a
  // callback firing between tests). Without this, each one runs every test: 18% of src/'s mutants,
  // most of the time of a run. With it, those also reached by tests (most of them) run only those
  // tests, with the same results on src/core/stores.ts in a third of the time; the few reached
  // only outside tests are reported as Ignored. CONTRIBUTING.md has the measurements.
  ignoreStatic: true,
  // Reruns test only the mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // The GC tests call gc(); vitest's worker threads cannot take the flag themselves.
  testRunnerNodeArgs: ['--expose-gc'],
  // One test runner: the machines this runs on are small and shared (`--concurrency 2` for two).
  concurrency: 1,
  // No TypeScript checker: TypeScript 7 has no JS API for @stryker-mutator/typescript-checker.
  checkers: [],
  // Nor for Stryker's rewrite of tsconfig.json's `extends` and `references` in the sandbox
  // (`ts.parseConfigFileTextToJson is not a function`), which ours do not need: the sandbox is a
  // copy of the whole repository, so no path in them leads out of it. A file that does not exist
  // turns the rewrite off.
  tsconfigFile: 'stryker-rewrites-no-tsconfig.json',
};
