/**
 * Slowloris clients: a raw connection that sends a request's first lines
 * and then dribbles the rest, a byte at a time, never finishing the
 * headers ('headers') or the body ('body').
 */
import net from 'node:net';

export interface Loris {
  socket: net.Socket;
  openedAt: number;
  closedAt?: number;
  /** The server's answer, if it sent one before closing. */
  reply: string;
  timer?: ReturnType<typeof setInterval>;
}

export function loris(port: number, kind: 'headers' | 'body', everyMs = 1000): Loris {
  const socket = net.connect(port, '127.0.0.1');
  const l: Loris = { socket, openedAt: Date.now(), reply: '' };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (l.reply += d));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    l.closedAt = Date.now();
    clearInterval(l.timer);
  });
  socket.on('connect', () => {
    const head = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n';
    if (kind === 'headers') {
      socket.write(head);
      let i = 0;
      // a header line that never ends
      l.timer = setInterval(() => socket.writable && socket.write(i++ === 0 ? 'x-slow: ' : 'a'), everyMs);
    } else {
      socket.write(`${head}content-length: 100000\r\n\r\n{"model":"fuzz","messages":[`);
      l.timer = setInterval(() => socket.writable && socket.write(' '), everyMs);
    }
  });
  return l;
}

export function closeLorises(all: Loris[]): void {
  for (const l of all) {
    clearInterval(l.timer);
    l.socket.destroy();
  }
}

/** The first line of each distinct reply, for the log. */
export const replies = (all: Loris[]): string => [...new Set(all.map((l) => l.reply.split('\r\n')[0] || '(none)'))].join(', ');
