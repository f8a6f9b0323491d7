import type { Logger } from './logger.ts';
import { redactText } from './logger.ts';

/**
 * What the process does with an error nobody handled.
 *
 * - `unhandledRejection`: logged, never fatal. Every call the bot makes is awaited and handled
 *   where it is made (the platform adapters turn SDK errors into PlatformErrors); a rejection that
 *   still escapes is a promise some library dropped (google-gax's `initialize().catch(err => {
 *   throw err })` is one). It must not take down the bot, and with it every incident and timer it
 *   is coordinating.
 * - `uncaughtException`: logged as fatal, then the bot stops (gracefully if it can) and exits 1, for
 *   the orchestrator to restart it. A synchronous throw that reached the event loop abandoned some
 *   operation half-way; Node documents that resuming after it is not safe, and no allow-list of
 *   "known" errors can tell a harmless library throw from corrupted state.
 */
export interface ProcessGuardOptions {
  /** The bot's logger once it has one; before that, plain lines go to stderr. */
  logger: () => Logger | undefined;
  /** Called once after an uncaught exception was logged: stop and exit non-zero. */
  onFatal: (error: unknown) => void;
}

function describe(value: unknown): string {
  const text = value instanceof Error ? (value.stack ?? value.message) : String(value);
  return redactText(text);
}

export function installProcessGuards(target: NodeJS.Process, options: ProcessGuardOptions): void {
  target.on('unhandledRejection', (reason) => {
    const logger = options.logger();
    const message = 'unhandled promise rejection: logged and ignored, the bot keeps running';
    if (logger) logger.error({ err: reason }, message);
    else target.stderr.write(`runbook-bot: ${message}: ${describe(reason)}\n`);
  });
  let fatal = false;
  target.on('uncaughtException', (error, origin) => {
    const logger = options.logger();
    const message = 'uncaught exception: stopping, for the orchestrator to restart the bot';
    if (logger) logger.fatal({ err: error, origin }, message);
    else target.stderr.write(`runbook-bot: ${message}: ${describe(error)}\n`);
    if (fatal) return;
    fatal = true;
    options.onFatal(error);
  });
}
