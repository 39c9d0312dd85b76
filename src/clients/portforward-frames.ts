/**
 * The framing of Kubernetes' port-forward over a WebSocket (subprotocol `v4.channel.k8s.io`, served by the
 * kubelet's streaming library, the CRI runtimes that use it, and kwok; the API server passes the upgrade through).
 * Every binary message starts with one channel byte. For the i-th requested port, channel 2i carries data both
 * ways and channel 2i+1 carries the server's error text. The server's first two bytes on each channel are the
 * port, little-endian, before anything else; the client sends its data on the data channel with no prefix.
 * platctl forwards one port per WebSocket, so only channels 0 and 1 exist.
 */
import { PlatctlError } from '../errors.js';

/** The WebSocket subprotocol platctl asks for. */
export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';
/** The data channel of the (single) forwarded port. */
export const DATA_CHANNEL = 0;
/** The error channel of the (single) forwarded port. */
export const ERROR_CHANNEL = 1;

/** The API path that opens a port-forward to one port of a pod. */
export function portForwardPath(namespace: string, pod: string, port: number): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward?ports=${port}`;
}

/** One message to send: the channel byte, then the bytes. */
export function encodeFrame(channel: number, data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(data.length + 1);
  frame[0] = channel;
  frame.set(data, 1);
  return frame;
}

/** What one received message carries once its channel byte and any port prefix are taken off. */
export interface DecodedFrame {
  channel: 'data' | 'error';
  bytes: Buffer;
}

const protocolError = (message: string) =>
  new PlatctlError('KUBE_API', `port-forward: ${message}`, {
    hint: 'the API server or the node answered the port-forward in an unexpected way; retry, or pass --vault-addr',
  });

/**
 * Decodes the messages of one port-forward WebSocket in order: strips the channel byte, checks and drops the
 * 2-byte port prefix of each channel (which may arrive split over messages, or joined to the first data), and
 * rejects channels that were not asked for.
 */
export class PortForwardDecoder {
  /** Port-prefix bytes still expected, and those seen so far, per channel. */
  private readonly prefix = [Buffer.alloc(0), Buffer.alloc(0)];

  constructor(private readonly port: number) {}

  /** The message's payload, or undefined when it held only (part of) a port prefix. */
  decode(message: Buffer): DecodedFrame | undefined {
    if (message.length === 0) throw protocolError('an empty message (no channel byte)');
    const channel = message[0]!;
    if (channel !== DATA_CHANNEL && channel !== ERROR_CHANNEL) {
      throw protocolError(
        `a message on channel ${channel}, but only port ${this.port} (channels 0 and 1) was asked for`,
      );
    }
    let bytes = message.subarray(1);
    const seen = this.prefix[channel]!;
    if (seen.length < 2) {
      const need = 2 - seen.length;
      const got = Buffer.concat([seen, bytes.subarray(0, need)]);
      this.prefix[channel] = got;
      bytes = bytes.subarray(need);
      if (got.length < 2) return undefined;
      const announced = got.readUInt16LE(0);
      if (announced !== this.port) throw protocolError(`the server announced port ${announced}, not ${this.port}`);
    }
    if (bytes.length === 0) return undefined;
    return { channel: channel === DATA_CHANNEL ? 'data' : 'error', bytes };
  }
}
