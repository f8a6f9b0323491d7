import { truncate } from './escape.ts';
import { LIMITS } from './limits.ts';

/**
 * Packs lines into section texts of at most `max` characters (Slack: 3,000 a section), keeping
 * lines whole; a line longer than `max` is truncated, never dropped.
 */
export function packLines(lines: readonly string[], max: number = LIMITS.sectionText): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (current === '') current = line;
    else if (current.length + 1 + line.length <= max) current = `${current}\n${line}`;
    else {
      chunks.push(current);
      current = line;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}
