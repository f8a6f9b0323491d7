import { resolveSecrets } from '../../config/secrets.ts';
import type { Redactor } from '../redact.ts';

const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

/**
 * Resolves `${env:NAME}` references in header values (names lower-cased). Every resolved
 * reference, and the whole value of a credential header, goes to the redactor.
 */
export function resolveHeaders(
  configured: Record<string, string>,
  env: NodeJS.ProcessEnv,
  redactor: Redactor,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(configured)) {
    redactor.addReferences(value, env);
    const resolved = resolveSecrets(value, env);
    if (SENSITIVE_HEADER.test(name)) {
      redactor.add(resolved);
      redactor.add(resolved.replace(/^\S+\s+/, ''));
    }
    headers[name.toLowerCase()] = resolved;
  }
  return headers;
}

/**
 * fetch refuses URLs that carry credentials: moves them into a Basic Authorization header (as
 * curl does), unless the headers already authorise. Changes both arguments.
 */
export function moveUrlCredentials(url: URL, headers: Record<string, string>, redactor: Redactor): void {
  if (!url.username && !url.password) return;
  const basic = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  ).toString('base64');
  redactor.add(basic);
  headers.authorization ??= `Basic ${basic}`;
  url.username = '';
  url.password = '';
}
