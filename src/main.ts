import { ConfigError } from './config/load.ts';
import { EnvError } from './env.ts';
import { installProcessGuards } from './process-guards.ts';
import { type Runtime, startRuntime, stopOnSignals } from './runtime.ts';

/** Entry point: start, and stop gracefully on SIGTERM/SIGINT (and, exiting 1, on an uncaught exception). */
let runtime: Runtime | undefined;
let shutdown: ((reason: string, code?: number) => void) | undefined;

installProcessGuards(process, {
  logger: () => runtime?.services.logger,
  onFatal: () => (shutdown ? shutdown('uncaughtException', 1) : process.exit(1)),
});

try {
  runtime = await startRuntime();
  shutdown = stopOnSignals(runtime);
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
