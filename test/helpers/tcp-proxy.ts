/**
 * A TCP proxy in front of a real service (Postgres, Redis) that can fail the way networks fail:
 * - blackhole(): packets dropped, not refused. Connections stay open, nothing arrives either way, new
 *   connections are accepted but never reach the server. Bytes sent meanwhile are held, as TCP keeps
 *   retransmitting them, and arrive after restore(), unless their sender reset its socket first
 *   (an RST discards what it had not delivered): then the other side is reset on restore().
 * - refuse(): the port refuses connections and open ones are reset (the service is down).
 * - restore(): back to normal; held bytes and closes are delivered.
 */
import { createServer, type Server, Socket } from 'node:net';

type Mode = 'open' | 'blackhole' | 'refuse';

/** One direction of a connection: what `source` sent that `sink` has not received yet. */
interface Lane {
  source: Socket;
  sink: Socket | undefined;
  held: Buffer[];
  /** The source closed gracefully (FIN): deliver what is held, then end the sink. */
  ended: boolean;
  /** The source was reset (RST) or failed: what is held is lost; the sink is reset. */
  reset: boolean;
}

interface Connection {
  client: Socket;
  upstream: Socket | undefined;
  /** client → upstream */
  up: Lane;
  /** upstream → client (once the upstream connection exists) */
  down: Lane | undefined;
  /** Accepted during a blackhole: the server has never seen it. */
  unborn: boolean;
}

export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's (user, database, query kept). */
  via(url: string): string;
  blackhole(): void;
  refuse(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: Mode = 'open';
  const connections = new Set<Connection>();
  let server: Server | undefined;
  let port = 0;

  function flush(lane: Lane): void {
    const sink = lane.sink;
    if (mode !== 'open' || !sink || sink.connecting) return;
    if (lane.reset) {
      lane.held = [];
      resetSocket(sink);
      return;
    }
    for (const chunk of lane.held) if (!sink.destroyed) sink.write(chunk);
    lane.held = [];
    if (lane.ended && !sink.destroyed) sink.end();
  }

  function watch(lane: Lane, connection: Connection): void {
    lane.source.on('data', (chunk: Buffer) => {
      if (lane.reset) return;
      lane.held.push(chunk);
      flush(lane);
    });
    lane.source.on('end', () => {
      lane.ended = true;
      flush(lane);
    });
    lane.source.on('error', () => {
      lane.reset = true;
      lane.held = [];
    });
    lane.source.on('close', () => {
      if (!lane.ended) {
        lane.reset = true;
        lane.held = [];
      }
      flush(lane);
      if (connection.client.destroyed && (connection.upstream?.destroyed ?? true))
        connections.delete(connection);
    });
  }

  function connectUpstream(connection: Connection): void {
    const upstream = new Socket({ allowHalfOpen: true });
    const down: Lane = { source: upstream, sink: connection.client, held: [], ended: false, reset: false };
    connection.upstream = upstream;
    connection.up.sink = upstream;
    connection.down = down;
    watch(down, connection);
    upstream.on('connect', () => {
      flush(connection.up);
      flush(down);
    });
    upstream.connect(target.port, target.host);
  }

  function accept(client: Socket): void {
    if (mode === 'refuse') {
      resetSocket(client);
      return;
    }
    const connection: Connection = {
      client,
      upstream: undefined,
      up: { source: client, sink: undefined, held: [], ended: false, reset: false },
      down: undefined,
      unborn: mode === 'blackhole',
    };
    connections.add(connection);
    watch(connection.up, connection);
    if (!connection.unborn) connectUpstream(connection);
  }

  async function listen(): Promise<void> {
    const next = createServer({ allowHalfOpen: true }, accept);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    const address = next.address();
    if (typeof address === 'object' && address) port = address.port;
    server = next;
  }

  function stopListening(): Promise<void> {
    const current = server;
    server = undefined;
    if (!current) return Promise.resolve();
    return new Promise((resolve) => {
      current.close(() => resolve());
      // close() waits for open connections; the ones left are reset by the caller.
      setImmediate(resolve);
    });
  }

  await listen();

  return {
    get port() {
      return port;
    },
    via(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    blackhole() {
      mode = 'blackhole';
    },
    async refuse() {
      mode = 'refuse';
      await stopListening();
      for (const connection of connections) {
        resetSocket(connection.client);
        if (connection.upstream) resetSocket(connection.upstream);
      }
      connections.clear();
    },
    async restore() {
      // Let the sockets report what happened meanwhile (a reset, a close) before anything is delivered.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const wasRefusing = mode === 'refuse';
      mode = 'open';
      if (wasRefusing) await listen();
      for (const connection of [...connections]) {
        if (connection.unborn) {
          connection.unborn = false;
          // The server never saw it: a client that gave up meanwhile simply goes away.
          if (connection.up.reset || connection.up.ended || connection.client.destroyed) {
            resetSocket(connection.client);
            connections.delete(connection);
            continue;
          }
          connectUpstream(connection);
          continue;
        }
        flush(connection.up);
        if (connection.down) flush(connection.down);
      }
    },
    async close() {
      mode = 'refuse';
      await stopListening();
      for (const connection of connections) {
        resetSocket(connection.client);
        if (connection.upstream) resetSocket(connection.upstream);
      }
      connections.clear();
    },
  };
}
