import { z } from 'zod';
import { cloneJson, isJsonObject, type JsonObject, type JsonValue, semanticEqual } from './json.ts';
import { badRequest, KubeApiError } from './status-errors.ts';

/**
 * The three patch formats the API server accepts on PATCH:
 *   application/json-patch+json            RFC 6902 operations
 *   application/merge-patch+json           RFC 7386 merge
 *   application/strategic-merge-patch+json Kubernetes strategic merge (lists merged by key)
 * Failures answer like the server: a malformed patch is 400, a patch that cannot apply is 422.
 */

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

const jsonPatchSchema = z.array(
  z.discriminatedUnion('op', [
    z.object({ op: z.literal('add'), path: z.string(), value: z.json() }),
    z.object({ op: z.literal('replace'), path: z.string(), value: z.json() }),
    z.object({ op: z.literal('test'), path: z.string(), value: z.json() }),
    z.object({ op: z.literal('remove'), path: z.string() }),
    z.object({ op: z.literal('move'), path: z.string(), from: z.string() }),
    z.object({ op: z.literal('copy'), path: z.string(), from: z.string() }),
  ]),
);

function unprocessable(message: string): KubeApiError {
  return new KubeApiError(422, message);
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, forAdd: boolean): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw unprocessable(`invalid array index "${token}"`);
  const index = Number(token);
  if (index > length || (!forAdd && index === length))
    throw unprocessable(`array index ${index} out of bounds`);
  return index;
}

function parentOf(doc: JsonValue, tokens: string[], path: string): JsonValue {
  let node: JsonValue = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false)] ?? null;
    else if (isJsonObject(node) && token in node) node = node[token] ?? null;
    else throw unprocessable(`doc is missing path: "${path}": missing value`);
  }
  return node;
}

function getAt(doc: JsonValue, path: string): JsonValue {
  let node: JsonValue = doc;
  for (const token of pointer(path)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false)] ?? null;
    else if (isJsonObject(node) && token in node) node = node[token] ?? null;
    else throw unprocessable(`doc is missing path: "${path}": missing value`);
  }
  return node;
}

function addAt(doc: JsonValue, path: string, value: JsonValue): JsonValue {
  const tokens = pointer(path);
  const last = tokens.at(-1);
  if (last === undefined) return value;
  const parent = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true), 0, value);
  else if (isJsonObject(parent)) parent[last] = value;
  else throw unprocessable(`doc is missing path: "${path}": missing value`);
  return doc;
}

function removeAt(doc: JsonValue, path: string): JsonValue {
  const tokens = pointer(path);
  const last = tokens.at(-1);
  if (last === undefined) throw unprocessable('cannot remove the whole document');
  const parent = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false), 1);
  else if (isJsonObject(parent) && last in parent) delete parent[last];
  else throw unprocessable(`doc is missing path: "${path}": missing value`);
  return doc;
}

export function applyJsonPatch(target: JsonObject, body: unknown): JsonValue {
  const parsed = jsonPatchSchema.safeParse(body);
  if (!parsed.success)
    throw badRequest(`the JSON patch is not a list of RFC 6902 operations: ${parsed.error.message}`);
  let doc: JsonValue = cloneJson(target);
  for (const op of parsed.data) {
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, cloneJson(op.value as JsonValue));
        break;
      case 'remove':
        doc = removeAt(doc, op.path);
        break;
      case 'replace':
        getAt(doc, op.path);
        doc = addAt(removeAt(doc, op.path), op.path, cloneJson(op.value as JsonValue));
        break;
      case 'test':
        if (!semanticEqual(getAt(doc, op.path), op.value as JsonValue)) {
          throw unprocessable(`testing value ${op.path} failed: test failed`);
        }
        break;
      case 'move': {
        const value = getAt(doc, op.from);
        doc = addAt(removeAt(doc, op.from), op.path, value);
        break;
      }
      case 'copy':
        doc = addAt(doc, op.path, cloneJson(getAt(doc, op.from)));
        break;
    }
  }
  return doc;
}

/** RFC 7386: objects merge, null deletes, anything else replaces. */
export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const out: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key] ?? null, value);
  }
  return out;
}

/** patchMergeKey of the list fields in apps/v1 and core/v1 types (lists not named here are replaced). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

function mergeList(field: string, target: JsonValue | undefined, patch: JsonValue[]): JsonValue {
  const key = MERGE_KEYS[field];
  if (!key || !Array.isArray(target)) {
    return patch.filter((item) => !(isJsonObject(item) && item.$patch === 'delete')).map((v) => cloneJson(v));
  }
  if (patch.some((item) => isJsonObject(item) && item.$patch === 'replace')) {
    return patch
      .filter((item) => !(isJsonObject(item) && item.$patch === 'replace'))
      .map((v) => cloneJson(v));
  }
  const out = cloneJson(target);
  for (const item of patch) {
    if (!isJsonObject(item))
      throw badRequest(`strategic merge patch: list ${field} needs objects keyed by ${key}`);
    const id = item[key];
    if (id === undefined) throw badRequest(`strategic merge patch: an item of ${field} has no ${key}`);
    const index = out.findIndex(
      (existing) => isJsonObject(existing) && semanticEqual(existing[key] ?? null, id),
    );
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) {
      out[index] = applyStrategicMergePatch(out[index] ?? null, item);
    } else {
      out.push(applyStrategicMergePatch(null, item));
    }
  }
  return out;
}

/** Strategic merge: a merge patch whose keyed lists merge item by item, with $patch directives. */
export function applyStrategicMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return cloneJson(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  const retainKeys = Array.isArray(patch.$retainKeys) ? patch.$retainKeys : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        out[field] = current.filter((v) => !value.some((d) => semanticEqual(d, v)));
      }
      continue;
    }
    if (value === null) delete out[key];
    else if (Array.isArray(value)) out[key] = mergeList(key, out[key], value);
    else out[key] = applyStrategicMergePatch(out[key] ?? null, value);
  }
  if (retainKeys) {
    for (const key of Object.keys(out)) if (!retainKeys.includes(key)) delete out[key];
  }
  return out;
}

/** Applies a PATCH body of the given content type to the object's current JSON. */
export function applyPatch(contentType: string, current: JsonObject, body: unknown): JsonValue {
  if (contentType === JSON_PATCH) return applyJsonPatch(current, body);
  if (contentType === MERGE_PATCH) return applyMergePatch(current, body as JsonValue);
  if (contentType === STRATEGIC_MERGE_PATCH) return applyStrategicMergePatch(current, body as JsonValue);
  throw new KubeApiError(
    415,
    `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_MERGE_PATCH}`,
  );
}
