/**
 * People in incident records are Slack user ids (actors, owners, `<@U…>` mentions in stored text);
 * what people read shows their names instead: a NameOf (the Slack layer looks them up).
 */

/** A name for a user id (the id itself when unknown). */
export type NameOf = (userId: string) => string;

/** Shows ids as they are. */
export const idsAsNames: NameOf = (id) => id;

export const SLACK_USER_ID = /^[UW][A-Z0-9_]{1,30}$/;
/** `<@U123>` or `<@U123|name>` in stored text. */
const MENTION = /<@([UW][A-Z0-9_]{1,30})(?:\|[^>]*)?>/g;

/** The user ids in `text`'s mentions. */
export function mentionedIds(text: string): string[] {
  return [...text.matchAll(MENTION)].map((m) => m[1] ?? '').filter(Boolean);
}

/** Replaces each `<@U…>` mention with `@name` (before escaping: the result pings nobody). */
export function replaceMentions(text: string, nameOf: NameOf): string {
  return text.replace(MENTION, (_m, id: string) => `@${nameOf(id)}`);
}

/** Every user id an incident's records name: actors, and mentions in the texts. */
export function peopleIn(records: { actors?: Iterable<string | null>; texts?: Iterable<string> }): string[] {
  const ids = new Set<string>();
  for (const actor of records.actors ?? []) if (actor && SLACK_USER_ID.test(actor)) ids.add(actor);
  for (const text of records.texts ?? []) for (const id of mentionedIds(text)) ids.add(id);
  return [...ids];
}
