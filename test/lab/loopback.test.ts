import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopbackHost, offLoopback, scanLabLogs } from './loopback.js';

describe('the loopback-only scan of lab logs', () => {
  it('flags the webhook call the lab apiserver once made to a Service ClusterIP', () => {
    const line =
      'W1202 trace.go:236] failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod-1-30-3.istio-system.svc:443/validate?timeout=10s": x509: certificate is valid for archive.ubuntu.com';
    expect(offLoopback(line)).toMatch(/failed calling webhook/);
  });

  it('flags dials, resolver lookups and HTTP errors that name a non-loopback address', () => {
    expect(offLoopback('dial tcp 10.96.0.12:443: connect: connection refused')).toBe('dial tcp 10.96.0.12:443');
    expect(offLoopback('dial tcp [fd00::10]:443: i/o timeout')).toBe('dial tcp [fd00::10]:443');
    expect(
      offLoopback('dial tcp: lookup notification-controller.flux-system.svc.cluster.local.: no such host'),
    ).toMatch(/lookup notification-controller/);
    expect(offLoopback('lookup example.com on 192.168.1.1:53: server misbehaving')).toMatch(/on 192\.168\.1\.1:53/);
    expect(offLoopback('failed to fetch: Get "https://helm.releases.hashicorp.com/index.yaml": EOF')).toMatch(
      /helm\.releases\.hashicorp\.com/,
    );
    // The Flux controllers log JSON, where Go's quotes are escaped.
    const json =
      '{"level":"error","msg":"Reconciler error","error":"failed to fetch Helm repository index: Get \\"https://istio-release.storage.googleapis.com/charts/index.yaml\\": EOF"}';
    expect(offLoopback(json)).toMatch(/istio-release\.storage\.googleapis\.com$/);
    expect(offLoopback('ssh: connect to host github.com port 22: Connection refused')).toMatch(/github\.com/);
    expect(offLoopback('ssh: Could not resolve hostname git.example.com: Name or service not known')).toMatch(
      /git\.example\.com/,
    );
  });

  it('lets loopback traffic through', () => {
    for (const line of [
      'dial tcp 127.0.0.1:2379: connect: connection refused',
      'dial tcp [::1]:8200: connect: connection refused',
      'dial tcp: lookup localhost: no such host',
      'Get "http://127.0.0.1:39393/gitrepository/flux-system/flux-system/abc.tar.gz": EOF',
      'Post "https://localhost:6443/api": EOF',
      '{"error":"Get \\"http://127.0.0.1:40001/istio/index.yaml\\": EOF"}',
      'ssh: connect to host 127.0.0.1 port 2222: Connection refused',
      'I1202 controller.go:667] quota admission added evaluator for: leases.coordination.k8s.io',
    ])
      expect(offLoopback(line), line).toBeUndefined();
    expect(isLoopbackHost('127.88.3.4')).toBe(true);
    expect(isLoopbackHost('10.96.0.1')).toBe(false);
  });

  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scans the service logs and skips the build logs (which download on purpose)', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'platctl-loopback-'));
    writeFileSync(path.join(dir, 'kube-apiserver.log'), 'ok\nE1202 dial tcp 10.96.0.1:443: i/o timeout\n');
    writeFileSync(path.join(dir, 'kube-build.log'), 'Get "https://proxy.golang.org/k8s.io/api/@v/list": EOF\n');
    const hits = scanLabLogs(dir);
    expect(hits.map((h) => [h.log, h.match])).toEqual([['kube-apiserver.log', 'dial tcp 10.96.0.1:443']]);
  });
});
