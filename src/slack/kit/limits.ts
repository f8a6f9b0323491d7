/** Slack's Block Kit limits that incident messages and modals keep to. */
import type { Block, KnownBlock } from '@slack/types';
import { truncate } from './escape.ts';

export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  sectionText: 3_000,
  sectionField: 2_000,
  sectionFields: 10,
  header: 150,
  modalTitle: 24,
  buttonText: 75,
  optionText: 75,
  optionDescription: 75,
  privateMetadata: 3_000,
  /** Message `text` (Slack truncates longer ones; we keep fallbacks short). */
  fallbackText: 3_000,
  /** conversations.setTopic. */
  topic: 250,
  plainTextInput: 3_000,
} as const;

/** Section text within the limit. */
export const sectionText = (text: string): string => truncate(text, LIMITS.sectionText);
export const fieldText = (text: string): string => truncate(text, LIMITS.sectionField);
export const headerText = (text: string): string => truncate(text, LIMITS.header);

/**
 * Truncating escaped mrkdwn must not cut an entity (`&amp;`) or a token (`<@U1>`) in half: drops
 * a dangling partial one at the end.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1)).replace(/&[a-z]{0,4}$|<[^>]*$/, '');
  return `${cut}…`;
}

/** Keeps a message within 50 blocks: drops the middle, never the header or the buttons. */
export function capBlocks(
  blocks: (KnownBlock | Block)[],
  max: number = LIMITS.messageBlocks,
): (KnownBlock | Block)[] {
  if (blocks.length <= max) return blocks;
  return [...blocks.slice(0, max - 1), ...blocks.slice(-1)];
}
