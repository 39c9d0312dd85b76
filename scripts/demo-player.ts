/**
 * What the demo has to play because the lab cannot run it. Said loudly, and used only by `npm run demo`:
 * - the git host's admin: once platctl shows the Flux deploy key, add it to the fleet repo as a READ-ONLY key
 *   (on GitHub: Settings → Deploy keys, "Allow write access" unticked);
 * - Flux's controllers (their pods are only kwok's: nothing reconciles): mark the GitRepository and
 *   Kustomization Ready at the fleet repo's HEAD, through test/lab/pretend-controller.ts.
 */
import { execa } from 'execa';
import { connectKube, type KubeObject } from '../src/clients/kube.js';
import { authorizeKey, type LabEnv } from '../test/lab/lab.js';
import { PretendController } from '../test/lab/pretend-controller.js';

const flux = (plural: string, group: string, kind: string) => ({
  api: { group, version: 'v1', plural, namespace: 'flux-system', name: 'flux-system' },
  ref: { apiVersion: `${group}/v1`, kind, namespace: 'flux-system', name: 'flux-system' },
});
const gitRepo = flux('gitrepositories', 'source.toolkit.fluxcd.io', 'GitRepository');
const kustomization = flux('kustomizations', 'kustomize.toolkit.fluxcd.io', 'Kustomization');

interface FluxObject extends KubeObject {
  status?: { lastAppliedRevision?: string; artifact?: { revision?: string } };
}

/** Starts playing; returns a function that stops. */
export async function startPlayer(env: LabEnv, say: (msg: string) => void): Promise<() => void> {
  const kube = await connectKube({ kubeconfig: env.kubeconfig });
  const pretend = PretendController.forLab(env);
  const authorised = new Set<string>();
  let stopped = false;

  const tick = async () => {
    const secret = await kube.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'flux-system',
      name: 'flux-system',
    });
    const pub = secret?.data?.['identity.pub'] && Buffer.from(secret.data['identity.pub'], 'base64').toString().trim();
    if (pub && !authorised.has(pub)) {
      authorised.add(pub);
      await authorizeKey(pub, { readOnly: true });
      say('demo (playing the git host admin): added the Flux deploy key to the fleet repo as a read-only key');
    }
    const ks = await kube.get<FluxObject>(kustomization.ref);
    if (!ks) return;
    const head = (await execa('git', ['--git-dir', env.fleetRepoPath, 'rev-parse', 'refs/heads/main'])).stdout.trim();
    const revision = `main@sha1:${head}`;
    if (ks.status?.lastAppliedRevision !== revision) {
      await pretend.setFluxReady(gitRepo.api, { revision });
      await pretend.setFluxReady(kustomization.api, { revision });
      say(`demo (playing Flux's controllers, their pods are kwok's): flux-system Ready at ${revision}`);
    }
  };
  const loop = async () => {
    while (!stopped) {
      await tick().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}
