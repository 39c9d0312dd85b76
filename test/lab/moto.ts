/**
 * moto_server: one in-memory AWS (IAM, STS, KMS, EKS, ECR, EC2, ELBv2, tagging, ...)
 * on a loopback port; platctl reaches it through `AWS_ENDPOINT_URL`.
 */
import { request } from 'node:http';
import { VERSIONS } from './config.js';
import type { BinPaths } from './install.js';
import { HOST, type Ports } from './ports.js';
import { httpStatus, type ServiceSpec } from './service.js';

/** moto's endpoint for the given ports. */
export function motoUrl(ports: Ports): string {
  return `http://${HOST}:${ports.moto}`;
}

/** The moto_server service. */
export function motoSpec(bins: BinPaths, ports: Ports): ServiceSpec {
  const url = motoUrl(ports);
  return {
    name: 'moto',
    version: VERSIONS.moto,
    address: url,
    cmd: bins.motoServer,
    args: ['-H', HOST, '-p', String(ports.moto)],
    // Unbuffered, so the log shows requests as they come.
    env: { PYTHONUNBUFFERED: '1' },
    // Not /moto-api/data.json: that dumps every resource and gets slow as tests fill moto.
    ready: async () => (await httpStatus(`${url}/moto-api/`)) === 200,
  };
}

/** Forgets every AWS resource moto holds (moto's own reset API); the server keeps running. */
export function resetMoto(awsEndpoint: string): Promise<void> {
  return new Promise((res, rej) => {
    const req = request(`${awsEndpoint}/moto-api/reset`, { method: 'POST' }, (r) => {
      r.resume();
      if (r.statusCode === 200) res();
      else rej(new Error(`moto reset: HTTP ${r.statusCode}`));
    });
    req.once('error', rej);
    req.end();
  });
}
