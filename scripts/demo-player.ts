/**
 * What the demo has to play because the lab cannot run it. Said loudly, and used only by `npm run demo`:
 * - Flux's controllers (their pods are only kwok's: nothing reconciles): mark the GitRepository and
 *   Kustomization Ready at the fleet repo's HEAD, through test/lab/pretend-controller.ts.
 * The git host's admin is no longer played: the demo's fleet repo is on the lab's Gitea (fleet.provider gitea),
 * where platctl creates the repository and registers the read-only deploy key through the API itself.
 */
import path from 'node:path';
import { execa } from 'execa';
import { connectKube, type KubeObject } from '../src/clients/kube.js';
import { repoFromUrl } from '../src/githost/provider.js';
import { labPaths } from '../test/lab/config.js';
import { giteaPaths } from '../test/lab/gitea.js';
import type { LabEnv } from '../test/lab/lab.js';
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
  // Gitea keeps the fleet repo as a bare repository on disk (lowercased owner/name).
  const { owner, name } = repoFromUrl(env.gitea.fleetUrl);
  const bare = path.join(giteaPaths(labPaths(env.labDir)).repos, owner.toLowerCase(), `${name.toLowerCase()}.git`);
  let stopped = false;

  const tick = async () => {
    const ks = await kube.get<FluxObject>(kustomization.ref);
    if (!ks) return;
    const head = (await execa('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main'])).stdout.trim();
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
