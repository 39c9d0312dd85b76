/**
 * Step `istio`: the Istio control plane as Helm releases, with revisions and revision tags.
 * istio-base (CRDs, defaultRevision), istiod-<rev> (revision, revisionTags), the istio-ingress gateway;
 * the namespaces in istio.namespaces get istio.io/rev=<first tag>. Upgrades go through
 * `platctl istio upgrade` (canary), never through this step. See docs/steps/istio.md.
 */
import { cheapCheck, deepCheck } from '../src/istio/check.js';
import { applyIstio, destroyIstio } from '../src/istio/install.js';
import { configRevision } from '../src/istio/revision.js';
import { outputReader } from '../src/state/outputs.js';
import type { Step } from '../src/step.js';

/** The istio step's outputs (written by src/istio/check.ts istioOutputs): the revision and its tags. */
export const readIstioOutputs = outputReader('istio', { revision: 'string', tags: 'strings' });

/** The istio step. */
export const istioStep: Step = {
  id: 'istio',
  title: 'Istio control plane (revisions and tags)',
  inputs: (ctx) => ({
    istio: ctx.cluster.istio,
    revision: configRevision(ctx.cluster),
    mirror: ctx.cluster.images.mirror ?? null,
    kubernetes: ctx.cluster.kubernetes.version,
  }),
  check: (ctx) => (ctx.deep ? deepCheck(ctx) : cheapCheck(ctx)),
  apply: (ctx) => applyIstio(ctx),
  destroy: (ctx) => destroyIstio(ctx),
};
