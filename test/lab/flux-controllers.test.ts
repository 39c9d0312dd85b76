/** How the lab runs the real Flux controllers on the host: the Deployment's args, loopback where they cannot work. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLockdown, parseManifests } from '../../src/flux/manifests.js';
import { FIXTURES } from './config.js';
import {
  controllerSpec,
  expandVars,
  FLUX_CONTROLLER_NAMES,
  type FluxController,
  hostArgs,
  type ManagerContainer,
} from './flux-controllers.js';
import { runningPod } from './flux-host.js';
import { binPaths } from './install.js';
import { PORT_NAMES, type Ports } from './ports.js';

const ports = Object.fromEntries(PORT_NAMES.map((n, i) => [n, 40000 + i])) as Ports;
const install = parseManifests(readFileSync(path.join(FIXTURES, 'flux', 'install.yaml'), 'utf8'));
applyLockdown(install);
const manager = (name: FluxController) =>
  (
    install.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as unknown as {
      spec: { template: { spec: { containers: ManagerContainer[] } } };
    }
  ).spec.template.spec.containers[0]!;
const spec = (name: FluxController) =>
  controllerSpec(name, manager(name), { bins: binPaths(), ports, dataDir: '/lab' });

describe('the Flux controllers as host processes', () => {
  it('keep every arg of their Deployment, the lockdown flags platctl patches in included', () => {
    const kc = spec('kustomize-controller').args;
    for (const flag of [
      '--no-cross-namespace-refs=true',
      '--default-service-account=default',
      '--no-remote-bases=true',
      '--watch-all-namespaces',
      '--log-encoding=json',
    ])
      expect(kc, flag).toContain(flag);
    expect(spec('helm-controller').args).toContain('--default-service-account=default');
    // Leader election needs a pod's namespace file; a single host process needs none.
    expect(kc).toContain('--enable-leader-election=false');
    expect(kc).not.toContain('--enable-leader-election');
    expect(spec('notification-controller').args).toContain('--no-cross-namespace-refs=true');
  });

  it('listen and post only on loopback: events, metrics, health, artifacts and the webhook receiver', () => {
    for (const name of FLUX_CONTROLLER_NAMES) {
      const args = spec(name).args;
      for (const a of args.filter((x) => /addr=/i.test(x)))
        expect(a, `${name} ${a}`).toMatch(/=(http:\/\/)?127\.0\.0\.1:\d+\/?$/);
      expect(args.join(' '), name).not.toMatch(/svc\.cluster\.local|\$\(/);
      expect(
        args.filter((a) => a.startsWith('--events-addr=')),
        name,
      ).toHaveLength(1);
    }
    expect(spec('source-controller').args).toEqual(
      expect.arrayContaining([
        `--events-addr=http://127.0.0.1:${ports.notificationEvents}/`,
        '--storage-path=/lab/flux/source-controller/storage',
        `--storage-addr=127.0.0.1:${ports.sourceStorage}`,
        `--storage-adv-addr=127.0.0.1:${ports.sourceStorage}`,
        `--health-addr=127.0.0.1:${ports.sourceHealth}`,
      ]),
    );
    expect(spec('notification-controller').args).toEqual(
      expect.arrayContaining([
        `--events-addr=127.0.0.1:${ports.notificationEvents}`,
        `--receiverAddr=127.0.0.1:${ports.notificationReceiver}`,
      ]),
    );
  });

  it('run as their namespace, with their own kubeconfig and temp dir, and literal env values kept off /tmp', () => {
    const s = spec('source-controller');
    expect(s.env).toMatchObject({
      RUNTIME_NAMESPACE: 'flux-system',
      KUBECONFIG: '/lab/flux/source-controller/kubeconfig',
      TMPDIR: '/lab/flux/source-controller/tmp',
      TUF_ROOT: '/lab/flux/source-controller/tmp/.sigstore',
    });
    expect(s.cmd).toBe(binPaths().sourceController);
  });

  it('replace flags given as --flag value too, and expand $(VAR) as Kubernetes does', () => {
    expect(
      hostArgs(
        ['--storage-path', '/data', '--x', '--health-addr=:9440'],
        { 'storage-path': '/s', 'health-addr': 'h' },
        {},
      ),
    ).toEqual(['--x', '--storage-path=/s', '--health-addr=h']);
    expect(expandVars('a.$(NS).svc $$(NS) $(UNSET)', { NS: 'flux-system' })).toBe('a.flux-system.svc $(NS) $(UNSET)');
  });
});

describe('which pod a controller process stands in for', () => {
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'source-controller' },
    spec: { selector: { matchLabels: { app: 'source-controller' } } },
  };
  const pod = (name: string, phase: string, created: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'source-controller' }, creationTimestamp: created, ...extra },
    status: { phase },
  });
  it('is the newest Running pod of the Deployment: none while Pending, deleted, or for another Deployment', () => {
    const old = pod('a', 'Running', '2026-12-02T10:00:00Z');
    const fresh = pod('b', 'Running', '2026-12-02T11:00:00Z');
    expect(runningPod(dep, [old, fresh])?.metadata.name).toBe('b');
    expect(runningPod(dep, [old, pod('c', 'Pending', '2026-12-02T12:00:00Z')])?.metadata.name).toBe('a');
    expect(runningPod(dep, [pod('c', 'Pending', '2026-12-02T12:00:00Z')])).toBeUndefined();
    expect(
      runningPod(dep, [pod('d', 'Running', '2026-12-02T12:00:00Z', { deletionTimestamp: 'now' })]),
    ).toBeUndefined();
    expect(runningPod(dep, [{ ...old, metadata: { ...old.metadata, labels: { app: 'other' } } }])).toBeUndefined();
    expect(runningPod(undefined, [old])).toBeUndefined();
  });
});
