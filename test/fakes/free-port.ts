/**
 * A port on 127.0.0.1 with nothing listening, for connection-refused tests.
 * The port came from the kernel's ephemeral range and was closed again, so
 * nothing else is likely to take it before the test connects.
 */
import net from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (!addr || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: no TCP address'));
        return;
      }
      const port = addr.port;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** A base URL (`http://127.0.0.1:PORT/v1`) where connections are refused. */
export async function refusedURL(host = '127.0.0.1'): Promise<string> {
  return `http://${host}:${await freePort(host)}/v1`;
}
