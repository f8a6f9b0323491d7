/**
 * What a user is told when the bot's own database or Redis cannot be reached: in plain words, what is
 * down and that nothing was changed. Every listener (slash commands, buttons, modals) uses it.
 */
import { CoordinationError } from '../../coordination/errors.ts';
import { StoreError } from '../../store/errors.ts';

export const DATABASE_UNREACHABLE =
  "The bot's database is unreachable; nothing was changed. Try again in a minute.";
export const COORDINATION_UNREACHABLE =
  "The bot's coordination service (Redis) is unreachable; nothing was changed. Try again in a minute.";
/** A change was sent and its answer never came back: it may have been saved. */
export const DATABASE_IN_DOUBT =
  "The bot's database stopped answering while saving this change, so it may or may not have been recorded. Check before you try again in a minute.";

export type DependencyFailure = 'database' | 'database-in-doubt' | 'coordination';

/** The errors inside `error`: itself, an AggregateError's members, and causes (a few levels deep). */
function* errorsIn(error: unknown, depth = 0): Generator<unknown> {
  if (depth > 4 || error === undefined || error === null) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* errorsIn(inner, depth + 1);
  if (error instanceof Error && error.cause !== undefined) yield* errorsIn(error.cause, depth + 1);
}

/** Which of the bot's dependencies made `error` happen, if it was one being unreachable or too slow. */
export function dependencyFailure(error: unknown): DependencyFailure | undefined {
  for (const inner of errorsIn(error)) {
    if (inner instanceof StoreError && inner.unavailable)
      return inner.inDoubt ? 'database-in-doubt' : 'database';
    if (inner instanceof CoordinationError && inner.transient) return 'coordination';
  }
  return undefined;
}

const TEXT: Record<DependencyFailure, string> = {
  database: DATABASE_UNREACHABLE,
  'database-in-doubt': DATABASE_IN_DOUBT,
  coordination: COORDINATION_UNREACHABLE,
};

/** The user-facing text for an unreachable dependency, or undefined for any other error. */
export function unavailableText(error: unknown): string | undefined {
  const failure = dependencyFailure(error);
  return failure === undefined ? undefined : TEXT[failure];
}
