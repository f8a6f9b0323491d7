/**
 * A bot process for tests that kill it (SIGKILL) or stop it (SIGTERM): what src/main.ts runs, with
 * the test's Postgres schema and Redis key prefix. Tells its parent its URL once it serves.
 */
import { startRuntime, stopOnSignals } from '../../src/runtime.ts';

const runtime = await startRuntime({
  ...(process.env.TEST_DB_SCHEMA ? { dbSchema: process.env.TEST_DB_SCHEMA } : {}),
  ...(process.env.TEST_KEY_PREFIX ? { keyPrefix: process.env.TEST_KEY_PREFIX } : {}),
});
stopOnSignals(runtime);
process.send?.({ ready: runtime.url });
