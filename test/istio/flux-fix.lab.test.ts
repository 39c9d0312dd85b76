/**
 * The Flux trailing-dot fix against the lab's apiserver: applied only when Flux (flux-system) and Istio (the
 * EnvoyFilter CRD) are both there, a no-op without writes the second time, removable. The CRD is rendered at
 * run time from the upstream istio-base chart (../shared/fixtures/charts/istio/base) by the lab's helm.
 */

import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { connectKube, type KubeObject } from '../../src/clients/kube.js';
import { deleteAndWait, settle } from '../../src/clients/namespaces.js';
import { waitForCrds } from '../../src/flux/install.js';
import {
  FLUX_FIX_NAME,
  fluxFixChange,
  fluxTrailingDotFix,
  removeFluxTrailingDotFix,
  trailingDotFilter,
} from '../../src/istio/flux-fix.js';
import { countingKube, ISTIO_CHARTS, namespaceSettled } from '../helpers/helm-context.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { lab } from '../lab/env.js';

const env = lab();
const crdRef = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  name: 'envoyfilters.networking.istio.io',
};
const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
const made: string[] = [];
let madeCrd = false;
const inner = await connectKube({ kubeconfig: env.kubeconfig });

/** A context whose kube counts requests. */
const ctx = (dryRun = false) => {
  const kube = countingKube(inner);
  return { kube: async () => kube, counts: kube.counts, log: memoryLogger(), dryRun };
};

beforeAll(async () => {
  for (const n of ['istio-system', 'flux-system']) await namespaceSettled(inner, n);
  await settle(inner, crdRef);
  for (const n of ['istio-system', 'flux-system']) {
    if (!(await inner.get(ns(n)))) {
      await inner.create({ ...ns(n), metadata: { name: n } });
      made.push(n);
    }
  }
});

afterAll(async () => {
  await removeFluxTrailingDotFix(inner);
  // Waited for, so the next test file does not find them terminating.
  if (madeCrd) await deleteAndWait(inner, crdRef);
  await Promise.all(made.map((n) => deleteAndWait(inner, ns(n))));
});

describe('Flux trailing-dot fix', () => {
  it('does nothing while Istio is not installed', async () => {
    const c = ctx();
    expect(await fluxFixChange(inner)).toBeUndefined();
    expect(await fluxTrailingDotFix(c)).toBe('skipped');
    expect(c.counts.writes).toBe(0);
  });

  it('applies the EnvoyFilter once both are there; again it writes nothing', async () => {
    if (!(await inner.get(crdRef))) {
      const out = await execa(env.bins.helm, ['template', 'istio-base', path.join(ISTIO_CHARTS, 'base')]);
      const crd = parseAllDocuments(out.stdout)
        .map((d) => d.toJS() as KubeObject | null)
        .find((o) => o?.kind === 'CustomResourceDefinition' && o.metadata.name === crdRef.name);
      if (!crd) throw new Error('the istio-base chart rendered no EnvoyFilter CRD');
      await inner.create(crd);
      madeCrd = true;
      await waitForCrds(inner, [crd]);
    }
    expect(await fluxFixChange(inner)).toBe(`+ EnvoyFilter istio-system/${FLUX_FIX_NAME} (Flux trailing-dot FQDNs)`);
    const dry = ctx(true);
    expect(await fluxTrailingDotFix(dry)).toBe('skipped');
    expect(dry.counts.writes).toBe(0);
    const first = ctx();
    expect(await fluxTrailingDotFix(first)).toBe('applied');
    const stored = await inner.get<KubeObject & { spec: unknown }>({
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      namespace: 'istio-system',
      name: FLUX_FIX_NAME,
    });
    expect(stored?.spec).toEqual(trailingDotFilter().spec);
    const second = ctx();
    expect(await fluxTrailingDotFix(second)).toBe('unchanged');
    expect(second.counts.writes).toBe(0);
  });

  it('patches only outbound sidecar HTTP connection managers, to strip the trailing host dot', () => {
    const patch = (trailingDotFilter().spec as { configPatches: Record<string, unknown>[] }).configPatches[0];
    expect(patch).toMatchObject({
      applyTo: 'NETWORK_FILTER',
      match: { context: 'SIDECAR_OUTBOUND' },
      patch: { operation: 'MERGE', value: { typed_config: { strip_trailing_host_dot: true } } },
    });
  });

  it('is removed, and removing again is harmless', async () => {
    expect(await removeFluxTrailingDotFix(inner)).toBe(true);
    expect(await removeFluxTrailingDotFix(inner)).toBe(false);
  });
});
