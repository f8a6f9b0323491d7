import {
  canonicalJson,
  cloneJson,
  isJsonObject,
  type JsonObject,
  pruneEmpty,
  semanticEqual,
} from './json.ts';
import { POD_TEMPLATE_HASH_LABEL } from './resources.ts';

/**
 * The `pod-template-hash` the deployment controller names ReplicaSets after: an FNV-32a hash of the
 * pod template (and the collision count), its decimal digits mapped through rand.SafeEncodeString's
 * alphabet (no vowels, no look-alikes), as in k8s.io/kubernetes/pkg/controller/controller_utils.go.
 */

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function safeEncodeString(text: string): string {
  return [...text].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

/** The template without the pod-template-hash label the controller adds to ReplicaSet templates. */
export function withoutHashLabel(template: JsonObject): JsonObject {
  const copy = cloneJson(template);
  const metadata = copy.metadata;
  if (isJsonObject(metadata) && isJsonObject(metadata.labels))
    delete metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return copy;
}

export function podTemplateHash(template: JsonObject, collisionCount = 0): string {
  const text = canonicalJson(pruneEmpty(withoutHashLabel(template)));
  return safeEncodeString(String(fnv32a(collisionCount > 0 ? `${text}#${collisionCount}` : text)));
}

/** deploymentutil.EqualIgnoreHash: same template once the pod-template-hash label is ignored. */
export function equalIgnoreHash(a: JsonObject, b: JsonObject): boolean {
  return semanticEqual(withoutHashLabel(a), withoutHashLabel(b));
}
