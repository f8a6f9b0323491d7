/**
 * The layout of issue 10 for incidents, checked on the source: the domain (src/incidents) imports no
 * Slack and no store (the store imports the domain's types, never the other way round); listeners and
 * subcommands only read repositories (every change is a domain method); the IncidentService is built
 * once, in src/runtime.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

function imports(path: string): string[] {
  return [...read(path).matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1] ?? '');
}

/** Where an import points, from the repository root (packages as they are). */
function target(from: string, spec: string): string {
  return spec.startsWith('.') ? relative(ROOT, join(ROOT, from, '..', spec)) : spec;
}

/** Repository methods that only read. */
const READS = /^(get|find|list|count|is)/;

/**
 * Writes through repositories left in the Slack layer, each with its reason. kit/once.ts: the
 * exactly-once claims of Slack deliveries themselves (processed_requests), not domain state.
 */
const ALLOWED_WRITES = new Set(['src/slack/kit/once.ts: processed.release']);

describe('incident layering', () => {
  it('src/incidents imports neither Slack, nor the store, nor a platform adapter', () => {
    const offending = sources('src/incidents').flatMap((file) =>
      imports(file)
        .map((spec) => target(file, spec))
        .filter((to) => /^@slack\/|^src\/(slack|store|platform|local)\//.test(to))
        .map((to) => `${file} → ${to}`),
    );
    expect(offending).toEqual([]);
  });

  it('listeners and subcommands write nothing through repositories', () => {
    const writes = [...sources('src/slack'), ...sources('commands')].flatMap((file) =>
      [...read(file).matchAll(/\brepos\.(\w+)\.(\w+)\(/g)]
        .filter((m) => !READS.test(m[2] ?? ''))
        .map((m) => `${file}: ${m[1]}.${m[2]}`)
        .filter((write) => !ALLOWED_WRITES.has(write)),
    );
    expect(writes).toEqual([]);
  });

  it('the IncidentService is built once, in src/runtime.ts', () => {
    const builders = [...sources('src'), ...sources('commands')].filter((file) =>
      /new IncidentService\(/.test(read(file)),
    );
    expect(builders).toEqual(['src/runtime.ts']);
  });

  it('timers are not taken from the Slack layer', () => {
    expect(
      imports('src/runtime.ts').filter((spec) => /slack\/incidents\/(flows|archive)/.test(spec)),
    ).toEqual([]);
  });
});
