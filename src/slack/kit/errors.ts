import { DATABASE_UNREACHABLE } from './unavailable.ts';

/** A problem with what the user typed or clicked: shown to them privately, with how to do it right. */
export class UserInputError extends Error {
  override name = 'UserInputError';
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

/**
 * The database did not answer in time while recording that an action runs exactly once, so the
 * action was not taken. A UserInputError so that every listener tells the user in plain words.
 */
export class StoreUnavailableError extends UserInputError {
  override name = 'StoreUnavailableError';
  constructor(options: { cause?: unknown } = {}) {
    super(DATABASE_UNREACHABLE, "If it keeps failing, tell the bot's operators.");
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** A button or form whose values the bot cannot read (older version, tampered, truncated). */
export const outOfDate = (what: 'button' | 'form', command = 'the command'): UserInputError =>
  new UserInputError(`This ${what} is out of date: run ${command} again.`);
