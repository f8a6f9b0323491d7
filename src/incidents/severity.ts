import type { SeverityConfig } from '../config/schema.ts';

export class UnknownSeverityError extends Error {
  override name = 'UnknownSeverityError';
  readonly valid: string[];
  constructor(word: string, ladder: readonly SeverityConfig[]) {
    const valid = ladder.map((s) => s.name);
    super(`"${word}" is not a severity. Valid levels: ${valid.join(', ')}.`);
    this.valid = valid;
  }
}

/** Digits of a severity word: P1, p1, sev1, SEV-1, sev 1, 1 → "1". */
function levelDigits(word: string): string | undefined {
  const match = /^(?:p|sev|s)?[\s_-]?(\d{1,2})$/i.exec(word.trim());
  return match?.[1];
}

/** Finds a severity by a tolerant word (`p1`, `P1`, `sev1`, `SEV-1`, or the level's own name). */
export function findSeverity(word: string, ladder: readonly SeverityConfig[]): SeverityConfig | undefined {
  const upper = word.trim().toUpperCase();
  const exact = ladder.find((s) => s.name.toUpperCase() === upper || s.label.toUpperCase() === upper);
  if (exact) return exact;
  const digits = levelDigits(word);
  if (digits === undefined) return undefined;
  return ladder.find((s) => levelDigits(s.name) === digits);
}

export function parseSeverity(word: string, ladder: readonly SeverityConfig[]): SeverityConfig {
  const found = findSeverity(word, ladder);
  if (!found) throw new UnknownSeverityError(word, ladder);
  return found;
}

/** Looks like a severity word at all (to tell `declare P9 x` from `declare Checkout down`). */
export function looksLikeSeverity(word: string): boolean {
  return levelDigits(word) !== undefined;
}
