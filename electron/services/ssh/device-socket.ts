// The TCP connection under every SSH client. Hearth opens it itself (rather than letting
// ssh2 do it) so it can always destroy it: ssh2's destroy() does nothing once the socket
// is half-closed, and a dead link would then linger until TCP gives up.
import { connect, type Socket } from 'node:net';

export function openDeviceSocket(host: string, port: number): Socket {
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  // ssh2 reports socket errors through the client; this keeps a late one from being uncaught.
  socket.on('error', () => undefined);
  return socket;
}

/** How much a device may send before its identification line (OpenSSH allows ~1024 lines). */
export const MAX_PRE_IDENT_BYTES = 64 * 1024;

/**
 * Watches for the server's identification line ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"),
 * allowing greeting lines before it (RFC 4253 §4.2). ssh2 buffers pre-ident lines without
 * bound, so past MAX_PRE_IDENT_BYTES without an ident this calls `onGarbage`. Call after
 * ssh2's connect(), which pauses the socket: adding this listener then does not start the
 * flow before ssh2 listens too. Stops listening once the ident is seen.
 */
export function watchIdent(socket: Socket, onGarbage: () => void): () => string | undefined {
  let pending = '';
  let seen = 0;
  let ident: string | undefined;
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    pending += chunk.toString('latin1');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    const found = lines.find((line) => line.startsWith('SSH-'));
    if (found !== undefined) {
      ident = found.replace(/\r$/, '').slice(0, 255);
      socket.removeListener('data', onData);
    } else if (seen > MAX_PRE_IDENT_BYTES) {
      socket.removeListener('data', onData);
      onGarbage();
    }
  };
  socket.on('data', onData);
  return () => ident;
}
