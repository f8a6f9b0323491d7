/**
 * A Markdown document as Slack messages: code blocks of at most 3,000 characters (a section's
 * limit), at most 13 of them (39,000 characters) a message, so each stays under Slack's 40,000.
 */
import { Blocks, Message } from 'slack-block-builder';
import type { Reply } from '../../kit/command.ts';
import { escapeMrkdwn } from '../../kit/escape.ts';
import { SECTION_TEXT_MAX } from './timeline.ts';

const FENCE_OPEN = '```\n';
const FENCE_CLOSE = '\n```';
/** Room for the document in one code block. */
export const CHUNK_BODY_MAX = SECTION_TEXT_MAX - FENCE_OPEN.length - FENCE_CLOSE.length;
/** Code blocks per message: 13 × 3,000 = 39,000 characters, under Slack's 40,000 a message. */
export const CHUNKS_PER_MESSAGE = 13;

/** Where to cut `text` at most `max` characters in, without splitting an entity or a surrogate pair. */
function cutPoint(text: string, max: number): number {
  let cut = Math.min(max, text.length);
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp >= 0 && amp > cut - 5 && !text.slice(amp, cut).includes(';')) cut = amp;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return Math.max(1, cut);
}

/**
 * Splits mrkdwn-escaped text into pieces of at most `max` characters, at line ends where possible;
 * a line longer than `max` is cut in pieces (never inside an entity such as `&amp;`).
 */
export function splitIntoChunks(escaped: string, max = CHUNK_BODY_MAX): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of escaped.split('\n')) {
    let rest = line;
    if (current !== '' && current.length + 1 + rest.length <= max) {
      current = `${current}\n${rest}`;
      continue;
    }
    if (current !== '') chunks.push(current);
    current = '';
    while (rest.length > max) {
      const cut = cutPoint(rest, max);
      chunks.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    current = rest;
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

/** The messages carrying a Markdown document, each a run of code blocks. */
export function buildMarkdownMessages(title: string, markdown: string): Reply[] {
  const chunks = splitIntoChunks(escapeMrkdwn(markdown.trimEnd()));
  const messages: Reply[] = [];
  const total = Math.ceil(chunks.length / CHUNKS_PER_MESSAGE);
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_MESSAGE) {
    const part = i / CHUNKS_PER_MESSAGE + 1;
    const text = total > 1 ? `${title} (part ${part} of ${total})` : title;
    const sections = chunks
      .slice(i, i + CHUNKS_PER_MESSAGE)
      .map((chunk) => Blocks.Section({ text: `${FENCE_OPEN}${chunk}${FENCE_CLOSE}` }));
    const message = Message({ text })
      .blocks(...sections)
      .buildToObject();
    messages.push({ text, blocks: message.blocks ?? [] } as Reply);
  }
  return messages;
}
