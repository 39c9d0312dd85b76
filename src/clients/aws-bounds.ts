/**
 * Bounds on AWS calls. The SDK's HTTP handler gets a connection and a request timeout per attempt (the SDK
 * retries with backoff up to `awsAttempts`); this middleware, around all attempts and the credential lookup,
 * prints a progress line while a call waits ("waiting for sts.us-east-1… 20 s") and turns a timeout into one
 * TIMEOUT error naming the endpoint and what to check. An overall deadline backs it up, for what the handler
 * does not cover (a credential provider that never answers).
 */
import { isPlatctlError } from '../errors.js';
import type { Timeouts } from './timeouts.js';
import { noticeWhile, timeoutError } from './waiting.js';

/** The SDK's HTTP handler options for these bounds. */
export function requestHandlerOptions(t: Timeouts) {
  return {
    connectionTimeout: t.awsConnectMs,
    requestTimeout: t.awsRequestMs,
    throwOnRequestTimeout: true,
    socketTimeout: t.awsRequestMs,
  };
}

/** True for the SDK's (and Node's) "no answer in time" errors. */
export function isTimeoutError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT' || e.code === 'ESOCKETTIMEDOUT') return true;
  return /timed out|timeout exceeded/i.test(String(e.message ?? ''));
}

/** The longest one call may take in all: every attempt timing out, plus backoff. */
export function overallMs(t: Timeouts): number {
  return t.awsAttempts * (t.awsConnectMs + t.awsRequestMs) + 30_000;
}

/** How a person would name the endpoint: the service and region, and the URL when it is overridden. */
export function endpointLabel(service: string, region: string, override = process.env.AWS_ENDPOINT_URL): string {
  return override ? `${service}.${region} (${override})` : `${service}.${region}`;
}

const hint = (service: string, region: string, override: string | undefined) =>
  override
    ? `check that ${override} (AWS_ENDPOINT_URL) answers`
    : `check the network path to ${service}.${region}.amazonaws.com: an HTTPS proxy (HTTPS_PROXY), a VPC endpoint ` +
      `or firewall; AWS status for ${region}; raise timeouts.awsRequest / timeouts.awsAttempts in platform.yaml for a slow link`;

type Next = (args: unknown) => Promise<unknown>;

/** The initialize-step middleware for one client. */
export function boundMiddleware(service: string, region: string, t: Timeouts) {
  const override = process.env.AWS_ENDPOINT_URL;
  const label = endpointLabel(service, region, override);
  return (next: Next, context: { commandName?: string }) => async (args: unknown) => {
    const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
    const expiry = { endpoint: label, what: `${service}:${op}`, hint: hint(service, region, override) };
    const stop = noticeWhile(label);
    const limit = overallMs(t);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(expiry, limit)), limit);
      timer.unref();
    });
    try {
      return await Promise.race([next(args), deadline]);
    } catch (err) {
      if (!isPlatctlError(err) && isTimeoutError(err))
        throw timeoutError(
          { ...expiry, what: `${expiry.what} (${t.awsAttempts} attempts)` },
          t.awsConnectMs + t.awsRequestMs,
          err,
        );
      throw err;
    } finally {
      clearTimeout(timer);
      stop();
    }
  };
}
