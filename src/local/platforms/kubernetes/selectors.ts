import type { LabelSelector } from './resources.ts';
import { badRequest } from './status-errors.ts';

/**
 * Label and field selectors as the API server reads them from `?labelSelector=` and
 * `?fieldSelector=` (k8s.io/apimachinery/pkg/labels and pkg/fields).
 */

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'doesnotexist' };

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = '[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?';
const VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?';

export function parseLabelSelector(text: string): Requirement[] {
  return splitTopLevel(text).map((part) => {
    let m = new RegExp(`^!\\s*(${KEY})$`).exec(part);
    if (m?.[1]) return { key: m[1], op: 'doesnotexist' };
    m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`).exec(part);
    if (m?.[1] && m[3] && m[4] !== undefined) {
      const values = m[4]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
      return { key: m[1], op: m[3] === 'in' ? 'in' : 'notin', values };
    }
    m = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`).exec(part);
    if (m?.[1] && m[3]) return { key: m[1], op: m[3] === '!=' ? 'notin' : 'in', values: [m[4] ?? ''] };
    m = new RegExp(`^(${KEY})$`).exec(part);
    if (m?.[1]) return { key: m[1], op: 'exists' };
    throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchesLabels(
  requirements: Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const have = labels ?? {};
  return requirements.every((r) => {
    const value = have[r.key];
    switch (r.op) {
      case 'exists':
        return value !== undefined;
      case 'doesnotexist':
        return value === undefined;
      case 'in':
        return value !== undefined && r.values.includes(value);
      default:
        return value === undefined || !r.values.includes(value);
    }
  });
}

/** metav1.LabelSelectorAsSelector: the requirements of a spec.selector. */
export function requirementsOf(selector: LabelSelector): Requirement[] {
  const out: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: 'in' as const,
    values: [value],
  }));
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In' || e.operator === 'NotIn') {
      out.push({ key: e.key, op: e.operator === 'In' ? 'in' : 'notin', values: e.values ?? [] });
    } else {
      out.push({ key: e.key, op: e.operator === 'Exists' ? 'exists' : 'doesnotexist' });
    }
  }
  return out;
}

/** The selector as the string form the Scale subresource reports in status.selector. */
export function selectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export interface FieldRequirement {
  field: 'metadata.name' | 'metadata.namespace';
  op: '=' | '!=';
  value: string;
}

/** Field selectors for the fields every object supports: metadata.name and metadata.namespace. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  return splitTopLevel(text).map((part) => {
    const m = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m?.[1] || !m[2]) {
      throw badRequest(`"${part}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    return {
      field: m[1] as FieldRequirement['field'],
      op: m[2] === '!=' ? '!=' : '=',
      value: m[3] ?? '',
    };
  });
}

export function matchesFields(
  requirements: FieldRequirement[],
  meta: { name: string; namespace: string },
): boolean {
  return requirements.every((r) => {
    const actual = r.field === 'metadata.name' ? meta.name : meta.namespace;
    return r.op === '=' ? actual === r.value : actual !== r.value;
  });
}
