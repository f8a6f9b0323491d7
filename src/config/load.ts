import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { closestKey } from '../util/closest.ts';
import { configSchema, type RunbookConfig } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The example config shipped with the repo, used when no runbook.yml exists. */
export const EXAMPLE_CONFIG_PATH = fileURLToPath(new URL('../../runbook.example.yml', import.meta.url));

export interface LoadedConfig {
  config: RunbookConfig;
  path: string;
  usedExample: boolean;
}

/** Chooses the config file: the given path, or ./runbook.yml, falling back to the shipped example. */
export function resolveConfigPath(
  configured: string | undefined,
  cwd = process.cwd(),
): { path: string; usedExample: boolean } {
  if (configured) {
    const path = isAbsolute(configured) ? configured : resolve(cwd, configured);
    if (!existsSync(path)) throw new ConfigError(`RUNBOOK_CONFIG: no file at ${path}`);
    return { path, usedExample: false };
  }
  const local = resolve(cwd, 'runbook.yml');
  if (existsSync(local)) return { path: local, usedExample: false };
  return { path: EXAMPLE_CONFIG_PATH, usedExample: true };
}

export function loadConfigFile(configured: string | undefined, cwd = process.cwd()): LoadedConfig {
  const { path, usedExample } = resolveConfigPath(configured, cwd);
  return { config: parseConfigText(readFileSync(path, 'utf8'), path), path, usedExample };
}

/**
 * Parses YAML config text. A bad config throws one ConfigError listing every problem, each by its
 * path and, where the YAML has it, its line: `services.0.platform.kind (line 12): Invalid input`.
 * Keys the schema does not know are refused with the line of the key and the closest known key:
 * `services.0.checks (line 12): unknown key "checks"; did you mean "healthChecks"?`.
 */
export function parseConfigText(text: string, source = 'config'): RunbookConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${e.message.split('\n')[0]}`;
    });
    throw new ConfigError(`invalid YAML\n${lines.join('\n')}`);
  }
  // The keys each refusing object knows, by path, for "did you mean" (the final issue keeps only the unknown ones).
  const knownKeys = new Map<string, string[]>();
  const result = configSchema.safeParse(doc.toJS() ?? {}, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.inst instanceof z.ZodObject)
        knownKeys.set(pathKey(issue.path ?? []), Object.keys(issue.inst.shape));
      if (issue.code === 'invalid_type' && issue.input === undefined) return 'required field missing';
      return undefined;
    },
  });
  if (result.success) return result.data;
  const problems = result.error.issues
    .flatMap((issue) => describe(issue, doc, lineCounter, knownKeys))
    .sort((a, b) => (a.line ?? Number.POSITIVE_INFINITY) - (b.line ?? Number.POSITIVE_INFINITY));
  const lines = problems.map(
    (p) => `  ${p.path.join('.') || '(root)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`,
  );
  throw new ConfigError(`invalid config in ${source}\n${lines.join('\n')}`);
}

type Doc = ReturnType<typeof parseDocument>;

interface Problem {
  path: string[];
  line: number | undefined;
  message: string;
}

/** One problem per issue; an unrecognized_keys issue becomes one problem per unknown key. */
function describe(
  issue: z.core.$ZodIssue,
  doc: Doc,
  lineCounter: LineCounter,
  knownKeys: Map<string, string[]>,
): Problem[] {
  const path = issue.path.map(String);
  if (issue.code !== 'unrecognized_keys') {
    return [{ path, line: lineOf(doc, lineCounter, issue.path), message: issue.message }];
  }
  const known = knownKeys.get(pathKey(issue.path)) ?? [];
  return issue.keys.map((key) => ({
    path: [...path, key],
    line: keyLineOf(doc, lineCounter, issue.path, key) ?? lineOf(doc, lineCounter, issue.path),
    message: unknownKeyMessage(key, known),
  }));
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = closestKey(key, known);
  if (suggestion) return `unknown key "${key}"; did you mean "${suggestion}"?`;
  return known.length > 0
    ? `unknown key "${key}"; known keys here: ${known.join(', ')}`
    : `unknown key "${key}"`;
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

function lineOf(doc: Doc, lineCounter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  // Walk up the path until a node exists (a missing field points at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The line of a key itself in the mapping at `path`. */
function keyLineOf(
  doc: Doc,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  key: string,
): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    const name = isScalar(pair.key) ? pair.key.value : pair.key;
    if (String(name) === key && isNode(pair.key) && pair.key.range)
      return lineCounter.linePos(pair.key.range[0]).line;
  }
  return undefined;
}
