import type { RespondFn } from '@slack/bolt';
import type { Logger } from '../../logger.ts';
import { UserInputError } from './errors.ts';
import { unavailableText } from './unavailable.ts';

/** Runs a button's work after the ack; problems are told privately to whoever clicked. */
export async function answering(
  logger: Logger,
  respond: RespondFn,
  what: string,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    const text =
      error instanceof UserInputError
        ? `:warning: ${error.message}${error.hint ? `\n${error.hint}` : ''}`
        : (unavailableText(error) ??
          `:x: Something went wrong (${what}). It has been logged; try again, and if it keeps failing tell the bot's operators.`);
    if (!(error instanceof UserInputError)) logger.error({ err: error }, `${what} failed`);
    await respond({ response_type: 'ephemeral', replace_original: false, text }).catch(
      (respondError: unknown) =>
        logger.error({ err: respondError }, 'could not tell the user about a failed button'),
    );
  }
}
