/**
 * Loopback ports of the lab: chosen free at first `up`, remembered in `.lab/state.json`
 * and reused while the lab runs (a remembered port that got taken is replaced).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { labPaths } from './config.js';

/** Every port the lab listens on. */
export const PORT_NAMES = [
  'etcd',
  'etcdPeer',
  'apiserver',
  'controllerManager',
  'scheduler',
  'kwok',
  'moto',
  'bao',
  'baoCluster',
  'sshd',
  'giteaHttp',
  'giteaSsh',
  // The loopback chart repository (fixture charts, `helm repo index`).
  'charts',
  // The Flux controllers, run as host processes (flux-controllers.ts): each one's metrics and health probes,
  // source-controller's artifact server, notification-controller's event and webhook-receiver servers.
  'sourceStorage',
  'sourceMetrics',
  'sourceHealth',
  'kustomizeMetrics',
  'kustomizeHealth',
  'helmMetrics',
  'helmHealth',
  'notificationEvents',
  'notificationReceiver',
  'notificationMetrics',
  'notificationHealth',
  'ebsProvisioner',
] as const;

/** Name of one lab port. */
export type PortName = (typeof PORT_NAMES)[number];
/** The lab's ports. */
export type Ports = Record<PortName, number>;

/** The loopback address every lab service binds. */
export const HOST = '127.0.0.1';

/** True when nothing listens on the port (we could bind it). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => res(true)));
  });
}

/** A port the kernel says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Remembered ports, or an empty object before the first `up`. */
export function readPorts(): Partial<Ports> {
  try {
    return (JSON.parse(readFileSync(labPaths().state, 'utf8')) as { ports?: Partial<Ports> }).ports ?? {};
  } catch {
    return {};
  }
}

/**
 * Resolves every port: a remembered one is kept when its owner still runs (`inUse`) or
 * when it is still free; anything else gets a fresh free port. Persists the result.
 */
export async function resolvePorts(inUse: (name: PortName) => boolean): Promise<Ports> {
  const old = readPorts();
  const ports: Partial<Ports> = {};
  const taken = new Set<number>();
  for (const name of PORT_NAMES) {
    const prev = old[name];
    if (prev && (inUse(name) || (await isPortFree(prev))) && !taken.has(prev)) {
      ports[name] = prev;
    } else {
      let p = await freePort();
      while (taken.has(p)) p = await freePort();
      ports[name] = p;
    }
    taken.add(ports[name]!);
  }
  const path = labPaths().state;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ ports }, null, 2)}\n`);
  return ports as Ports;
}
