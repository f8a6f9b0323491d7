import { Socket } from 'node:net';

/**
 * Drops a connection that stopped answering with a TCP reset, not a graceful close: an RST makes the
 * kernel discard what it had not delivered yet, so a statement or command stuck in an unreachable
 * network cannot reach the server later, after the caller was told it failed. (A FIN would keep
 * retransmitting it.) A TLS socket is reset through the TCP socket under it.
 */
export function resetSocket(socket: unknown): void {
  if (!(socket instanceof Socket) || socket.destroyed) return;
  try {
    socket.resetAndDestroy();
    return;
  } catch {
    // A TLS socket has no TCP handle of its own.
  }
  const parent: unknown = (socket as { _parent?: unknown })._parent;
  if (parent instanceof Socket && !parent.destroyed) {
    try {
      parent.resetAndDestroy();
    } catch {
      parent.destroy();
    }
  }
  socket.destroy();
}
