/**
 * The lab's PKI, made with openssl once per lab (kept until `lab down`): a CA, the
 * apiserver's serving cert, an admin client cert, the service-account signing key, and the serving cert of
 * kwok's kubelet server (the apiserver checks it against the lab CA when it port-forwards to a pod).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labPaths } from './config.js';
import { runLogged } from './proc.js';

/** Paths of the PKI files under `.lab/pki`. */
export function pkiPaths(dir = labPaths().pki) {
  const f = (n: string) => join(dir, n);
  return {
    dir,
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    apiserverCert: f('apiserver.crt'),
    apiserverKey: f('apiserver.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub'),
    /** kwok's kubelet server: IP SAN 127.0.0.1, the address the nodes report. */
    kubeletCert: f('kubelet.crt'),
    kubeletKey: f('kubelet.key'),
  };
}

/** PKI file paths. */
export type PkiPaths = ReturnType<typeof pkiPaths>;

const DAYS = '3650';

/** Every name a client may use for the apiserver, in cluster and out. */
const APISERVER_SANS = [
  'IP:127.0.0.1',
  'DNS:localhost',
  'IP:10.96.0.1',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
].join(',');

const LEAF = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment';

const ssl = (args: string[]) => runLogged('pki', 'openssl', args);

async function ecKey(path: string): Promise<void> {
  await ssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

async function signed(p: PkiPaths, base: string, subj: string, ext: string): Promise<void> {
  const key = join(p.dir, `${base}.key`);
  const csr = join(p.dir, `${base}.csr`);
  const extFile = join(p.dir, `${base}.ext`);
  await ecKey(key);
  await ssl(['req', '-new', '-key', key, '-subj', subj, '-out', csr]);
  await writeFile(extFile, `[v3]\n${ext}\n`);
  await ssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    p.caCert,
    '-CAkey',
    p.caKey,
    '-CAcreateserial',
    '-days',
    DAYS,
    '-extfile',
    extFile,
    '-extensions',
    'v3',
    '-out',
    join(p.dir, `${base}.crt`),
  ]);
  await rm(csr);
  await rm(extFile);
}

/** Creates the PKI unless it is there already; returns its paths. */
export async function ensurePki(): Promise<PkiPaths> {
  const p = pkiPaths();
  if (!existsSync(p.saPub)) await makePki(p);
  // Added later than the rest: a lab made before kwok gets it at its next `up`.
  if (!existsSync(p.kubeletCert)) {
    await signed(p, 'kubelet', '/CN=kwok-kubelet', `${LEAF}\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1`);
  }
  return p;
}

async function makePki(p: PkiPaths): Promise<void> {
  await mkdir(p.dir, { recursive: true });
  await ecKey(p.caKey);
  await ssl(['req', '-x509', '-new', '-key', p.caKey, '-subj', '/CN=platctl-lab-ca', '-days', DAYS, '-out', p.caCert]);
  await signed(
    p,
    'apiserver',
    '/CN=kube-apiserver',
    `${LEAF}\nextendedKeyUsage=serverAuth\nsubjectAltName=${APISERVER_SANS}`,
  );
  // system:masters: the lab's admin (and the controller-manager) may do anything.
  await signed(p, 'admin', '/O=system:masters/CN=lab-admin', `${LEAF}\nextendedKeyUsage=clientAuth`);
  // RSA for service-account tokens: RS256 is what every consumer accepts.
  await ssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', p.saKey]);
  await ssl(['pkey', '-in', p.saKey, '-pubout', '-out', p.saPub]);
}
