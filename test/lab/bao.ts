/**
 * OpenBao: a real `bao server` (not -dev) with single-node raft storage, a Shamir seal
 * (the default) and a plain-HTTP loopback listener. It starts uninitialised: tests init
 * and unseal it themselves, as platctl does against a real cluster.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labPaths, VERSIONS } from './config.js';
import { type BinPaths, binPaths } from './install.js';
import { HOST, type Ports, readPorts } from './ports.js';
import { stopService } from './proc.js';
import { ensureService, httpStatus, type ServiceSpec } from './service.js';

/** OpenBao's address (`VAULT_ADDR`/`BAO_ADDR`) for the given ports. */
export function baoUrl(ports: Ports): string {
  return `http://${HOST}:${ports.bao}`;
}

function baoPaths() {
  return { config: join(labPaths().dir, 'openbao.hcl'), storage: join(labPaths().data, 'openbao') };
}

/** Writes the server config and storage dir, then returns the service. */
export async function baoSpec(bins: BinPaths, ports: Ports): Promise<ServiceSpec> {
  const { config, storage } = baoPaths();
  await mkdir(storage, { recursive: true });
  const api = baoUrl(ports);
  const cluster = `${HOST}:${ports.baoCluster}`;
  const text = [
    'storage "raft" {',
    `  path    = "${storage}"`,
    '  node_id = "lab-0"',
    '}',
    'listener "tcp" {',
    `  address         = "${HOST}:${ports.bao}"`,
    `  cluster_address = "${cluster}"`,
    '  tls_disable     = true',
    '}',
    `api_addr     = "${api}"`,
    // Raft's cluster port always speaks TLS (OpenBao makes its own certs for it).
    `cluster_addr = "https://${cluster}"`,
    'ui = false',
    '',
  ].join('\n');
  await writeFile(config, text);
  return {
    name: 'openbao',
    version: VERSIONS.openbao,
    address: api,
    cmd: bins.bao,
    args: ['server', `-config=${config}`, '-log-level=info'],
    fingerprint: text,
    // Any answer from sys/health (501 = not initialised, 503 = sealed) means it serves.
    ready: async () => (await httpStatus(`${api}/v1/sys/health`)) !== undefined,
  };
}

/** Starts OpenBao unless it runs already. */
export async function startBao(ports: Ports): Promise<void> {
  await ensureService(await baoSpec(binPaths(), ports));
}

/**
 * Stops OpenBao, wipes its raft storage and starts it again, uninitialised, on the same
 * ports. For tests that need a fresh `bao operator init`.
 */
export async function resetBao(): Promise<void> {
  const ports = readPorts();
  if (!ports.bao || !ports.baoCluster) throw new Error('lab: openbao: no ports recorded; run `npm run lab -- up`');
  await stopService('openbao');
  await rm(baoPaths().storage, { recursive: true, force: true });
  await startBao(ports as Ports);
}
