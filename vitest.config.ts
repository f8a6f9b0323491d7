import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Child processes, not worker threads: a test file's bot, servers and sockets end with its
    // process (with threads, a handle left open kept the run from exiting).
    pool: 'forks',
    // The suite mostly waits (on Postgres, Redis, the simulators, deadlines, child bots): vitest's
    // default of one worker per core but one leaves a 2-core machine idle and runs files one at a
    // time (about 2 minutes). Four at once on 2 cores: about 50 s.
    maxWorkers: Math.max(4, availableParallelism()),
    globalSetup: ['test/setup/global.ts'],
  },
});
