/**
 * A loopback TCP server that accepts every connection, reads what it is sent and never answers: a stalled proxy,
 * a black-holed endpoint, a git host under load. The bounds tests aim clients at it to prove each gives up on
 * its own timer, naming the endpoint.
 */
import { createServer, type Socket } from 'node:net';

/** A running silent server: its port, the first line of every request it was sent, and how to stop it. */
export interface SilentServer {
  port: number;
  /** The first line of every request, in arrival order (tests may empty it between cases). */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a {@link SilentServer} on 127.0.0.1 and an ephemeral port. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets: Socket[] = [];
  const requests: string[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => requests.push(d.toString('utf8').split('\r\n')[0] ?? ''));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A loopback port nothing listens on: bound, read, closed (a connection to it is refused). */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}
