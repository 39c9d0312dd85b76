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

/**
 * The first port of the kernel's ephemeral range (`ip_local_port_range`, 32768 by default): outgoing connections
 * and binds to port 0 take their ports from there, so a port the lab only listens on later (a Flux controller's,
 * OpenBao's cluster port) is safe only below it.
 */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 1024 ? first : 32768;
  } catch {
    return 32768;
  }
}

/** Lab ports are picked from [LOW, ephemeral start): above the well-known and common service ports. */
const LOW = 20000;

/**
 * A port that is free right now and outside the ephemeral range (random, so two labs rarely even try the same one),
 * not in `taken`; the kernel's pick (port 0) only when no such port turns up.
 */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  const high = ephemeralStart();
  for (let i = 0; high > LOW && i < 50; i++) {
    const port = LOW + Math.floor(Math.random() * (high - LOW));
    if (!taken.has(port) && (await isPortFree(port))) return port;
  }
  return kernelPort();
}

/** A port the kernel says is free right now. */
function kernelPort(): Promise<number> {
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
 * `others`: the ports of other labs on this machine (a test run's labs beside this one). Several of a lab's
 * ports are listened on only later (the Flux controllers' once Flux is installed), so "free now" is not enough:
 * no port of another lab is ever picked.
 */
export async function resolvePorts(inUse: (name: PortName) => boolean, others: number[] = []): Promise<Ports> {
  const old = readPorts();
  const ports: Partial<Ports> = {};
  const taken = new Set<number>(others);
  for (const name of PORT_NAMES) {
    const prev = old[name];
    if (prev && (inUse(name) || (await isPortFree(prev))) && !taken.has(prev)) {
      ports[name] = prev;
    } else {
      let p = await freePort(taken);
      while (taken.has(p)) p = await freePort(taken);
      ports[name] = p;
    }
    taken.add(ports[name]!);
  }
  const path = labPaths().state;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ ports }, null, 2)}\n`);
  return ports as Ports;
}
