import { secretValues } from '../config/secrets.ts';
import { redactText } from '../logger.ts';
import type { CheckResult, JsonValue } from './types.ts';

const MASK = '[redacted]';
const CREDENTIAL_PARAM = /pass|secret|token|key|sig|auth|cred/i;
/** Shorter values would garble every message they happen to occur in. */
const MIN_SECRET_LENGTH = 3;

/**
 * Collects the secret values a check resolved (from `${env:NAME}` references, URL credentials,
 * credential headers) and removes them, in plain and URL-encoded form, from anything shown.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Remembers a secret value (and its URL-encoded forms). */
  add(value: string | undefined): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    this.#secrets.add(value);
    for (const encoded of [encodeURIComponent(value), encodeURI(value)]) this.#secrets.add(encoded);
    try {
      this.#secrets.add(decodeURIComponent(value));
    } catch {
      // Not percent-encoded text: the plain value is already remembered.
    }
  }

  /** Remembers the resolved values of every `${env:NAME}` reference in a config text. */
  addReferences(configText: string, env: NodeJS.ProcessEnv): void {
    for (const value of secretValues(configText, env)) this.add(value);
  }

  /**
   * Remembers the values a URL's references resolve to. A reference holding a whole URL
   * (`url: ${env:DATABASE_URL}`) is not secret as a whole: only its credentials and
   * credential-like query parameters are.
   */
  addUrlReferences(configText: string, env: NodeJS.ProcessEnv): void {
    for (const value of secretValues(configText, env)) {
      const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? URL.parse(value) : null;
      if (!url) {
        this.add(value);
        continue;
      }
      this.addUrlCredentials(url);
      for (const [key, param] of url.searchParams) if (CREDENTIAL_PARAM.test(key)) this.add(param);
    }
  }

  /** Remembers the password of a URL (the user name stays: "role x does not exist" needs it). */
  addUrlCredentials(url: URL): void {
    this.add(url.password);
  }

  redact(text: string): string {
    let out = text;
    const longestFirst = [...this.#secrets].filter((s) => s.length >= MIN_SECRET_LENGTH);
    longestFirst.sort((a, b) => b.length - a.length);
    for (const secret of longestFirst) out = out.split(secret).join(MASK);
    return redactText(out);
  }

  redactJson(value: JsonValue): JsonValue {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.redactJson(v));
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[this.redact(k)] = this.redactJson(v);
    return out;
  }

  /** A copy of the result with every text field redacted, children included. */
  redactResult(result: CheckResult): CheckResult {
    const out: CheckResult = {
      ...result,
      name: this.redact(result.name),
      target: this.redact(result.target),
    };
    if (result.reason !== undefined) out.reason = this.redact(result.reason);
    if (result.note !== undefined) out.note = this.redact(result.note);
    if (result.details !== undefined) {
      const details: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(result.details)) details[k] = this.redactJson(v);
      out.details = details;
    }
    if (result.children !== undefined) out.children = result.children.map((c) => this.redactResult(c));
    return out;
  }
}

/** The URL without username, password or fragment, for display (`postgres://db.internal:5432/app`). */
export function displayUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.hash = '';
  return copy.href;
}

/** Parses a URL, with a message naming what is wrong but never echoing the (maybe secret) text. */
export function parseUrl(text: string, what: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new TypeError(`${what} is not a valid URL`);
  }
}
