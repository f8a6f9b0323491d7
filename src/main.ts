import { ConfigError } from './config/load.ts';
import { EnvError } from './env.ts';
import { installProcessGuards } from './process-guards.ts';
import { type Runtime, startRuntime } from './runtime.ts';

/** Entry point: start, and stop gracefully on SIGTERM/SIGINT (and, exiting 1, on an uncaught exception). */
let runtime: Runtime | undefined;
let stopping = false;
const shutdown = (signal: string, code = 0): void => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  if (!runtime) {
    process.exit(code || 1);
    return;
  }
  runtime.services.logger.info({ signal }, 'shutting down');
  runtime.stop().then(
    () => process.exit(code),
    () => process.exit(1),
  );
};

installProcessGuards(process, {
  logger: () => runtime?.services.logger,
  onFatal: () => shutdown('uncaughtException', 1),
});

try {
  runtime = await startRuntime();
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
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
