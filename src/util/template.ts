/**
 * A tiny, safe placeholder renderer for the files in templates/: `{{ name }}` is replaced by the
 * value given for it, once, in one pass (a value containing `{{ x }}` is not expanded again), and
 * nothing else in the template runs. A placeholder without a value is an error naming it (a
 * template may leave a value out: a section it does not want).
 * Values are inserted as given: the caller escapes them for the document's format.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** The placeholder names of a template, in order of first use. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
}

export function renderTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  name = 'template',
): string {
  const used = new Set(placeholders(template));
  const missing = [...used].filter((key) => !Object.hasOwn(values, key));
  if (missing.length > 0)
    throw new TemplateError(`${name}: no value for ${missing.map((k) => `{{ ${k} }}`).join(', ')}`);
  return template.replace(PLACEHOLDER, (_m, key: string) => values[key] ?? '');
}
