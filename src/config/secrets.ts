import { z } from 'zod';

const REF_RE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export class SecretResolutionError extends Error {
  override name = 'SecretResolutionError';
}

/** True when the text holds at least one `${env:NAME}` reference. */
export function hasSecretRef(text: string): boolean {
  return new RegExp(REF_RE.source).test(text);
}

/** Names of the environment variables a text refers to. */
export function secretRefNames(text: string): string[] {
  return [...text.matchAll(REF_RE)].map((m) => m[1] ?? '');
}

/**
 * Replaces every `${env:NAME}` in the text with the variable's value. Secrets are resolved only
 * when used, so the loaded config (which is logged and shown) never holds their values.
 */
export function resolveSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(REF_RE, (_all, name: string) => {
    const value = env[name];
    if (value === undefined) {
      throw new SecretResolutionError(
        `environment variable ${name} (referenced as \${env:${name}}) is not set`,
      );
    }
    return value;
  });
}

/** Every resolved secret value in a text, for redaction in messages and logs. */
export function secretValues(text: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return secretRefNames(text)
    .map((name) => env[name])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** A URL that may carry credentials: a password in it must be a `${env:NAME}` reference. */
export const secretUrlSchema = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (hasSecretRef(value)) return;
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^/@]+)@/i.exec(value);
    if (match) {
      ctx.addIssue({
        code: 'custom',
        message: 'a password must not be written in the config: use a reference such as ${env:DB_PASSWORD}',
      });
    }
  });

const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

/** HTTP headers: the values of credential headers must be `${env:NAME}` references. */
export const secretHeadersSchema = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  for (const [name, value] of Object.entries(headers)) {
    if (SENSITIVE_HEADER.test(name) && !hasSecretRef(value)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `header ${name} carries a credential: write it as a reference, e.g. "Bearer \${env:ADMIN_TOKEN}"`,
      });
    }
  }
});
