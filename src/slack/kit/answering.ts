import type { RespondFn } from '@slack/bolt';
import type { Logger } from '../../logger.ts';
import { UserInputError } from './errors.ts';
import { unavailableText } from './unavailable.ts';

/** What a button's unexpected failure says after "Something went wrong (what). It has been logged". */
const TRY_AGAIN = "; try again, and if it keeps failing tell the bot's operators.";

/**
 * Runs a button's work after the ack. What the work returns (a refusal, an outcome) is said privately
 * to whoever clicked; so are problems: a UserInputError as it is, an unreachable dependency in plain
 * words, anything else as "Something went wrong (what)" followed by `afterLogged` (logged).
 */
export async function answering(
  logger: Logger,
  respond: RespondFn,
  what: string,
  /** Resolves to the text to say, or to nothing (it said what it had to itself). */
  work: () => Promise<unknown>,
  afterLogged = TRY_AGAIN,
): Promise<void> {
  let text: string | undefined;
  try {
    const said = await work();
    text = typeof said === 'string' ? said : undefined;
  } catch (error) {
    if (!(error instanceof UserInputError)) logger.error({ err: error }, `${what} failed`);
    text =
      error instanceof UserInputError
        ? `:warning: ${error.message}${error.hint ? `\n${error.hint}` : ''}`
        : (unavailableText(error) ?? `:x: Something went wrong (${what}). It has been logged${afterLogged}`);
  }
  if (!text) return;
  await respond({ response_type: 'ephemeral', replace_original: false, text }).catch(
    (respondError: unknown) => logger.error({ err: respondError }, 'could not answer a button privately'),
  );
}
