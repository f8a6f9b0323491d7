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
