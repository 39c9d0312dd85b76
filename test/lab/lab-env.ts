/**
 * `LabEnv`: every address, path and binary of a running lab, as written by `labUp()` to
 * `.lab/lab-env.json` (for code) and `.lab/env` (for shells: `source .lab/env`).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AWS_LAB, cacheRoot, labPaths, VERSIONS } from './config.js';
import type { BinPaths } from './install.js';
import type { Ports } from './ports.js';

/** Everything a test (or a person) needs to talk to the lab. */
export interface LabEnv {
  /** `.lab/` of this checkout (or `PLATCTL_LAB_DIR`). */
  labDir: string;
  /** Binary cache root (`~/.cache/platctl-lab` or `PLATCTL_LAB_CACHE`). */
  cacheDir: string;
  /** `.lab/logs`: one `<component>.log` per service, `<component>-build.log` per install. */
  logsDir: string;
  /** `.lab/kubeconfig`, context {@link kubeContext}, admin (system:masters) client cert. */
  kubeconfig: string;
  kubeContext: string;
  apiserverUrl: string;
  /** The lab CA (signs the apiserver's serving cert and the admin cert). */
  caCert: string;
  etcdUrl: string;
  /** moto_server, for `AWS_ENDPOINT_URL`. */
  awsEndpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * OpenBao's HTTP address, for tests that must talk to OpenBao itself (`baoProcessEnv`). platctl is not given
   * it: it reaches Vault as on EKS, port-forwarding to the pod `vault-0`, which kwok forwards to OpenBao.
   */
  vaultAddr: string;
  /** `ssh://root@127.0.0.1:<port>/fleet.git`. */
  fleetUrl: string;
  /** The bare fleet repository on disk (for assertions; go through ssh to change it). */
  fleetRepoPath: string;
  sshHost: string;
  sshPort: number;
  /** Operator's private key (read-write on the fleet repo); `.pub` beside it. */
  operatorKey: string;
  operatorPublicKey: string;
  /** known_hosts holding the lab sshd's host key for `[127.0.0.1]:<port>` and `[localhost]:<port>`. */
  knownHosts: string;
  /** ssh command line with the operator key and the lab known_hosts. */
  gitSshCommand: string;
  /** The lab's Gitea: API base, ssh port, admin user and its API token (secret), and the demo's fleet URL. */
  gitea: LabGitea;
  /**
   * The loopback Helm chart repository (charts.ts): `<chartsUrl>/istio`, `<chartsUrl>/hashicorp`,
   * `<chartsUrl>/aws-ebs-csi-driver`, each with an `index.yaml` (`PLATCTL_LAB_CHARTS_URL`).
   */
  chartsUrl: string;
  /**
   * The real Flux controllers run as host processes while their flux-system Deployments have a Running pod (flux-host.ts).
   * source-controller's artifact server (`--storage-adv-addr`): artifact URLs in GitRepository status point here.
   */
  sourceStorageUrl: string;
  /** notification-controller's event server: where the other controllers post events (`--events-addr`). */
  fluxEventsUrl: string;
  /**
   * notification-controller's webhook receiver (`--receiverAddr`), `http://127.0.0.1:<port>`: a git host's push
   * webhook for a Flux `Receiver` goes to `<fluxReceiverUrl><Receiver status.webhookPath>` (`/hook/<sha256>`).
   * In a cluster that is the `webhook-receiver` Service (port 80 → 9292); here the process listens on it
   * directly. It answers only while notification-controller runs (Flux installed).
   */
  fluxReceiverUrl: string;
  bins: BinPaths;
  /** Directories prefixed to `PATH` (tofu, helm, bao). */
  binDirs: string[];
  versions: typeof VERSIONS;
  ports: Ports;
}

/** The lab's Gitea, as tests and the demo reach it. */
export interface LabGitea {
  /** `http://127.0.0.1:<port>`: `fleet.apiUrl`. */
  url: string;
  sshPort: number;
  /** The admin user: owner of the repositories tests and the demo make. */
  user: string;
  /** The admin's API token (all scopes): `GITEA_TOKEN`. */
  token: string;
  /** `ssh://git@127.0.0.1:<port>/<admin>/fleet.git`: the demo's fleet repository (made by its bootstrap). */
  fleetUrl: string;
}

/**
 * Environment variables for a child process that should work against the lab (merge over `process.env`). No
 * VAULT_ADDR: platctl finds Vault through the cluster (`PLATCTL_LAB_BAO_ADDR` names OpenBao for people).
 */
export function labProcessEnv(env: LabEnv): Record<string, string> {
  return {
    KUBECONFIG: env.kubeconfig,
    AWS_ENDPOINT_URL: env.awsEndpoint,
    AWS_REGION: env.region,
    AWS_DEFAULT_REGION: env.region,
    AWS_ACCESS_KEY_ID: env.accessKeyId,
    AWS_SECRET_ACCESS_KEY: env.secretAccessKey,
    // Never wait on an instance-metadata endpoint that is not there.
    AWS_EC2_METADATA_DISABLED: 'true',
    PLATCTL_LAB_BAO_ADDR: env.vaultAddr,
    PLATCTL_LAB_FLEET_URL: env.fleetUrl,
    PLATCTL_LAB_SSH_KEY: env.operatorKey,
    GIT_SSH_COMMAND: env.gitSshCommand,
    PLATCTL_LAB_DIR: env.labDir,
    PLATCTL_LAB_GITEA_URL: env.gitea.url,
    PLATCTL_LAB_GITEA_FLEET_URL: env.gitea.fleetUrl,
    GITEA_TOKEN: env.gitea.token,
    PLATCTL_LAB_CHARTS_URL: env.chartsUrl,
    PATH: [...env.binDirs, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':'),
  };
}

/** {@link labProcessEnv} plus BAO_ADDR/VAULT_ADDR: for the bao CLI, or a process that must skip the cluster. */
export function baoProcessEnv(env: LabEnv): Record<string, string> {
  return { ...labProcessEnv(env), BAO_ADDR: env.vaultAddr, VAULT_ADDR: env.vaultAddr };
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes `.lab/lab-env.json` and the sourceable `.lab/env`. */
export async function writeLabEnv(env: LabEnv): Promise<void> {
  const p = labPaths(env.labDir);
  // Both hold the lab Gitea's admin token: owner-only.
  await writeFile(p.envJson, `${JSON.stringify(env, null, 2)}\n`, { mode: 0o600 });
  const vars = labProcessEnv(env);
  const lines = Object.entries(vars)
    .filter(([k]) => k !== 'PATH')
    .map(([k, v]) => `export ${k}=${shQuote(v)}`);
  // PATH is extended when sourced, not frozen to the PATH of whoever ran `lab up`.
  lines.push(`export PATH=${shQuote(env.binDirs.join(':'))}:"$PATH"`);
  await writeFile(
    p.envSh,
    `# platctl lab: source this file (written by \`npm run lab -- up\`)\n${lines.join('\n')}\n`,
    {
      mode: 0o600,
    },
  );
}

/** Reads the env of the running lab; throws (with the fix) when the lab was never brought up. */
export function readLabEnv(): LabEnv {
  const path = labPaths().envJson;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LabEnv;
  } catch {
    throw new Error(`lab: no ${path}: the lab is not up; run \`npm run lab -- up\``);
  }
}

/** Assembles the env from the pieces `labUp()` resolved. */
export function makeLabEnv(a: {
  ports: Ports;
  bins: BinPaths;
  apiserverUrl: string;
  etcdUrl: string;
  awsEndpoint: string;
  vaultAddr: string;
  fleetUrl: string;
  fleetRepoPath: string;
  caCert: string;
  operatorKey: string;
  knownHosts: string;
  gitSshCommand: string;
  gitea: LabGitea;
  chartsUrl: string;
  sourceStorageUrl: string;
  fluxEventsUrl: string;
  fluxReceiverUrl: string;
}): LabEnv {
  const p = labPaths();
  return {
    labDir: p.dir,
    cacheDir: cacheRoot(),
    logsDir: p.logs,
    kubeconfig: p.kubeconfig,
    kubeContext: 'lab',
    apiserverUrl: a.apiserverUrl,
    caCert: a.caCert,
    etcdUrl: a.etcdUrl,
    awsEndpoint: a.awsEndpoint,
    region: AWS_LAB.region,
    accessKeyId: AWS_LAB.accessKeyId,
    secretAccessKey: AWS_LAB.secretAccessKey,
    vaultAddr: a.vaultAddr,
    fleetUrl: a.fleetUrl,
    fleetRepoPath: a.fleetRepoPath,
    sshHost: '127.0.0.1',
    sshPort: a.ports.sshd,
    operatorKey: a.operatorKey,
    operatorPublicKey: `${a.operatorKey}.pub`,
    knownHosts: a.knownHosts,
    gitSshCommand: a.gitSshCommand,
    gitea: a.gitea,
    chartsUrl: a.chartsUrl,
    sourceStorageUrl: a.sourceStorageUrl,
    fluxEventsUrl: a.fluxEventsUrl,
    fluxReceiverUrl: a.fluxReceiverUrl,
    bins: a.bins,
    binDirs: [dirname(a.bins.tofu), dirname(a.bins.helm), dirname(a.bins.bao)],
    versions: VERSIONS,
    ports: a.ports,
  };
}
