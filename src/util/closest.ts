/** Edit distance between two short words (Levenshtein), for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidates closest to the word (distance at most 2, or a shared prefix), best first. */
export function closestMatches(word: string, candidates: readonly string[], max = 2): string[] {
  const w = word.toLowerCase();
  return candidates
    .map((c) => ({ c, d: c.startsWith(w) || w.startsWith(c) ? 0.5 : editDistance(w, c) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d)
    .slice(0, max)
    .map(({ c }) => c);
}

/**
 * The known key a misspelt one most likely meant, for "did you mean": compared without case, at an
 * edit distance of at most 2 (1 for keys of up to 4 letters), or one containing the other
 * (`checks` → `healthChecks`, `timeoutMs` → `timeout`). Undefined when nothing is close.
 */
export function closestKey(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { key: string; score: number } | undefined;
  for (const key of candidates) {
    const k = key.toLowerCase();
    const distance = editDistance(w, k);
    const contains = Math.min(w.length, k.length) >= 4 && (k.includes(w) || w.includes(k));
    const score = distance <= (w.length <= 4 ? 1 : 2) ? distance : contains ? 2.5 : Number.POSITIVE_INFINITY;
    if (score < (best?.score ?? Number.POSITIVE_INFINITY)) best = { key, score };
  }
  return best?.key;
}
