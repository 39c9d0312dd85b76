/**
 * Image mirror rewriting: with `images.mirror` set, every image platctl installs (Flux, Istio, Vault) is pulled
 * from the mirror instead, keeping the repository path: docker.io/istio/pilot:1.30.3 →
 * <mirror>/istio/pilot:1.30.3, ghcr.io/fluxcd/source-controller:v1 → <mirror>/fluxcd/source-controller:v1.
 */

const registryLike = (s: string) => s.includes('.') || s.includes(':') || s === 'localhost';

/** Splits an image reference into registry and the rest ("docker.io" when none is given). */
export function splitImage(ref: string): { registry: string; path: string } {
  const first = ref.split('/')[0] ?? '';
  if (ref.includes('/') && registryLike(first)) return { registry: first, path: ref.slice(first.length + 1) };
  return { registry: 'docker.io', path: ref.includes('/') ? ref : `library/${ref}` };
}

/** Rewrites one image reference to the mirror; unchanged when no mirror is set. */
export function mirrorImage(ref: string, mirror: string | undefined): string {
  if (!mirror) return ref;
  const base = mirror.replace(/\/+$/, '');
  if (ref.startsWith(`${base}/`)) return ref;
  return `${base}/${splitImage(ref).path}`;
}

/** Rewrites a registry host ("docker.io/istio" style hub values) to the mirror. */
export function mirrorHub(hub: string, mirror: string | undefined): string {
  return mirror ? mirrorImage(`${hub}/x`, mirror).replace(/\/x$/, '') : hub;
}
