import type { ServerResponse } from 'node:http';
import type { ListFilter } from './api.ts';
import type { Cluster, Resource, StoredEvent } from './cluster.ts';
import { isJsonObject, type JsonObject } from './json.ts';
import { KubeApiError } from './status-errors.ts';

/**
 * `?watch=true` on a collection: a chunked stream of JSON lines `{"type": ADDED|MODIFIED|DELETED|
 * BOOKMARK|ERROR, "object": …}`. With no resourceVersion (or "0") the current objects come first as
 * ADDED; with a resourceVersion the stream resumes after it (410 Expired when that is too old);
 * `sendInitialEvents=true` ends the initial ADDED events with a BOOKMARK annotated
 * `k8s.io/initial-events-end`. The stream ends after `timeoutSeconds`.
 */

export interface WatchRequest {
  resource: Resource;
  namespace: string | undefined;
  filter: ListFilter;
  query: URLSearchParams;
  /** The current objects, as a list would return them. */
  initial: JsonObject[];
  matches: (
    filter: ListFilter,
    meta: { name: string; namespace: string; labels?: Record<string, string> },
  ) => boolean;
}

function metaOf(object: JsonObject): { name: string; namespace: string; labels?: Record<string, string> } {
  const m = isJsonObject(object.metadata) ? object.metadata : {};
  const labels = isJsonObject(m.labels)
    ? Object.fromEntries(
        Object.entries(m.labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
      )
    : undefined;
  return {
    name: typeof m.name === 'string' ? m.name : '',
    namespace: typeof m.namespace === 'string' ? m.namespace : '',
    ...(labels ? { labels } : {}),
  };
}

/** Serves one watch; returns a function that ends it (used when the fake closes). */
export function serveWatch(res: ServerResponse, cluster: Cluster, request: WatchRequest): () => void {
  const { resource, namespace, filter, query } = request;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const write = (type: string, object: JsonObject) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const wanted = (event: StoredEvent) =>
    event.resource === resource &&
    (namespace === undefined || event.namespace === namespace) &&
    request.matches(filter, metaOf(event.object));

  let ended = false;
  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };

  const from = query.get('resourceVersion') ?? '';
  const sendInitial = query.get('sendInitialEvents') === 'true';
  if (from === '' || from === '0' || sendInitial) {
    for (const object of request.initial) write('ADDED', object);
    if (sendInitial) {
      write('BOOKMARK', {
        kind: resource === 'deployments' ? 'Deployment' : 'ReplicaSet',
        apiVersion: 'apps/v1',
        metadata: {
          resourceVersion: String(cluster.resourceVersion),
          annotations: { 'k8s.io/initial-events-end': 'true' },
        },
      });
    }
  } else {
    const past = cluster.eventsSince(Number(from));
    if (!past || !/^\d+$/.test(from)) {
      write(
        'ERROR',
        new KubeApiError(410, `too old resource version: ${from} (${cluster.resourceVersion})`).toStatus(),
      );
      end();
      return end;
    }
    for (const event of past) if (wanted(event)) write(event.type, event.object);
  }

  unsubscribe = cluster.subscribe((event) => {
    if (wanted(event)) write(event.type, event.object);
  });
  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '1800');
  timer = setTimeout(end, Math.max(1, timeoutSeconds) * 1000);
  res.on('close', end);
  return end;
}
