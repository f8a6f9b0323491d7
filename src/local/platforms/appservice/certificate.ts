import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * A throw-away self-signed TLS certificate for 127.0.0.1 / localhost, made in memory when the fake
 * starts. The Azure SDK's bearer-token policy refuses to send a token over plain http (as ARM itself
 * is https-only), so the App Service fake speaks https and the test client trusts this certificate
 * through an `https.Agent({ ca })`. Nothing is written to disk and no key is committed to the repo.
 */
export interface SelfSignedCertificate {
  /** PEM certificate: pass it as `ca` to trust the fake. */
  cert: string;
  /** PEM PKCS#8 private key for the fake's server. */
  key: string;
}

// ---------------------------------------------------------------- minimal DER encoding

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const octetString = (content: Buffer): Buffer => tlv(0x04, content);
const bitString = (content: Buffer): Buffer => tlv(0x03, Buffer.from([0]), content);
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);

function integer(value: Buffer): Buffer {
  const trimmed = value[0] === 0 && value.length > 1 ? value.subarray(1) : value;
  const positive = (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(0x02, positive);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let rest = part >> 7; rest > 0; rest >>= 7) chunk.unshift(0x80 | (rest & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const pad = (n: number) => String(n).padStart(2, '0');
  const text =
    pad(date.getUTCFullYear() % 100) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    'Z';
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// ---------------------------------------------------------------- certificate

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const SUBJECT_ALT_NAME = '2.5.29.17';
const BASIC_CONSTRAINTS = '2.5.29.19';
const DAY_MS = 86_400_000;

/** An ECDSA P-256 certificate valid from a day ago for `days` days, for 127.0.0.1 and localhost. */
export function createSelfSignedCertificate(now: Date = new Date(), days = 2): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8('127.0.0.1'))));
  const algorithm = sequence(oid(ECDSA_WITH_SHA256));
  const altNames = sequence(
    tlv(0x87, Buffer.from([127, 0, 0, 1])),
    tlv(0x82, Buffer.from('localhost', 'ascii')),
  );
  const extensions = sequence(
    sequence(
      oid(BASIC_CONSTRAINTS),
      tlv(0x01, Buffer.from([0xff])),
      octetString(sequence(tlv(0x01, Buffer.from([0xff])))),
    ),
    sequence(oid(SUBJECT_ALT_NAME), octetString(altNames)),
  );
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    algorithm,
    name,
    sequence(utcTime(new Date(now.getTime() - DAY_MS)), utcTime(new Date(now.getTime() + days * DAY_MS))),
    name,
    spki,
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, algorithm, bitString(signature));
  return {
    cert: pem('CERTIFICATE', certificate),
    key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}
