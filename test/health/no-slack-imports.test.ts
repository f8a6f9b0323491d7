import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Every module a file names: imports and re-exports (types included), dynamic imports, augmentations. */
function specifiers(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  const found: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom|\bimport|\bdeclare module)\s*\(?\s*['"]([^'"]+)['"]/g))
    if (m[1]) found.push(m[1]);
  return found;
}

/** What a file imports from the Slack layer (src/slack/) or Slack's packages. */
function slackImports(file: string): string[] {
  return specifiers(file).filter((s) => {
    if (s.startsWith('@slack/')) return true;
    if (!s.startsWith('.')) return false;
    const target = relative(root, resolve(root, dirname(file), s));
    return target === 'src/slack' || target.startsWith('src/slack/');
  });
}

describe('the health domain and Services know nothing of Slack', () => {
  it('finds imports it must refuse (the check itself works)', () => {
    expect(slackImports('src/slack/health/watch-message.ts')).toContain('../kit/errors.ts');
    expect(slackImports('src/slack/health/watch-message.ts')).toContain('@slack/web-api');
  });

  it('src/health/ and src/services.ts import nothing from src/slack/ or @slack/*, types included', () => {
    const files = [...tsFiles('src/health'), 'src/services.ts'];
    expect(files).toContain('src/health/watches.ts');
    const offending = files.flatMap((file) => slackImports(file).map((s) => `${file} → ${s}`));
    expect(offending).toEqual([]);
  });
});
