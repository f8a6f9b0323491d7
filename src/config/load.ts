import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
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
 * Parses YAML config text. A bad config throws a ConfigError naming each bad field by its path
 * and, where the YAML has it, its line: `services.0.platform.kind (line 12): Invalid input`.
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
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  throw new ConfigError(
    `invalid config in ${source}\n${formatIssues(result.error.issues, doc, lineCounter)}`,
  );
}

function formatIssues(
  issues: z.core.$ZodIssue[],
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(String);
      const line = lineOf(doc, lineCounter, issue.path);
      return `  ${path.join('.') || '(root)'}${line ? ` (line ${line})` : ''}: ${issue.message}`;
    })
    .join('\n');
}

function lineOf(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: PropertyKey[],
): number | undefined {
  // Walk up the path until a node exists (a missing field points at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}
