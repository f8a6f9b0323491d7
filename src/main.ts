import { ConfigError } from './config/load.ts';
import { EnvError } from './env.ts';
import { startRuntime, stopOnSignals } from './runtime.ts';

/** Entry point: start, and stop gracefully on SIGTERM/SIGINT. */
try {
  stopOnSignals(await startRuntime());
} catch (error) {
  if (error instanceof EnvError || error instanceof ConfigError) {
    process.stderr.write(`runbook-bot: ${error.message}\n`);
  } else {
    process.stderr.write(
      `runbook-bot: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
}
