import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that need `gc()` check for it and skip cleanly without; the npm script passes it.
    execArgv: ['--expose-gc'],
  },
});
