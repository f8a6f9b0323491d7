/**
 * An in-process Prometheus speaking the HTTP API's instant query (`GET|POST /api/v1/query`,
 * https://prometheus.io/docs/prometheus/latest/querying/api/): a `success` envelope with a `vector`
 * result (`[{ metric, value: [<unix seconds>, "<value>"] }]`), an empty vector when the series has no
 * data, and the `error` envelope (`errorType`, `error`) with HTTP 400 for a query it does not know.
 * The test decides each query's answer, a number or a function of the moment.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SeriesAnswer =
  | number
  | 'empty'
  | 'error'
  | 'unavailable'
  | (() => number | 'empty' | 'error' | 'unavailable');

export interface PrometheusFake {
  url: string;
  /** The answer to `query` from now on. */
  set(query: string, answer: SeriesAnswer): void;
  /** Queries received, in order. */
  queries: string[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

export async function startPrometheusFake(now: () => Date = () => new Date()): Promise<PrometheusFake> {
  const answers = new Map<string, SeriesAnswer>();
  const queries: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://prometheus.invalid');
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (url.pathname !== '/api/v1/query')
      return json(404, { status: 'error', errorType: 'not_found', error: 'not found' });
    const params = req.method === 'POST' ? new URLSearchParams(await body(req)) : url.searchParams;
    const query = params.get('query');
    if (!query)
      return json(400, { status: 'error', errorType: 'bad_data', error: 'query parameter is required' });
    queries.push(query);
    const configured = answers.get(query);
    const answer = typeof configured === 'function' ? configured() : configured;
    if (answer === undefined || answer === 'error') {
      return json(400, {
        status: 'error',
        errorType: 'bad_data',
        error: `invalid parameter "query": 1:1: parse error: unknown series ${JSON.stringify(query.slice(0, 40))}`,
      });
    }
    if (answer === 'unavailable') {
      return res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
    }
    const at = now().getTime() / 1000;
    const result = answer === 'empty' ? [] : [{ metric: { service: 'app' }, value: [at, String(answer)] }];
    return json(200, { status: 'success', data: { resultType: 'vector', result } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (query, answer) => void answers.set(query, answer),
    queries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
