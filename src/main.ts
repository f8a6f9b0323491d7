import { ConfigError } from './config/load.ts';
import { EnvError } from './env.ts';
import { startRuntime } from './runtime.ts';

/** Entry point: start, and stop gracefully on SIGTERM/SIGINT. */
try {
  const runtime = await startRuntime();
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    runtime.services.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    runtime.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
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
