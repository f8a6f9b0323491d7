/**
 * Keys written twice in one object of a raw JSON text. JSON.parse keeps only the last, as many log
 * pipelines do, so a duplicate can only be seen in the raw text.
 */
export function duplicateKeys(text: string): string[] {
  const duplicates: string[] = [];
  /** Open objects (their keys so far) and arrays (null), innermost last. */
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const value = JSON.parse(text.slice(i, j + 1)) as string;
      const keys = open.at(-1);
      if (expectKey && keys) {
        if (keys.has(value)) duplicates.push(value);
        keys.add(value);
      }
      expectKey = false;
      i = j + 1;
      continue;
    }
    if (c === '{') {
      open.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      open.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      open.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = Boolean(open.at(-1));
    }
    i++;
  }
  return duplicates;
}
