/**
 * A port-forward to a pod over one WebSocket per local connection (what `kubectl port-forward` does, without
 * SPDY): the API server passes the upgrade to the node, whose streaming server dials the pod's port. The socket is
 * opened by the Kubernetes transport (kube-transport.ts), so TLS and credentials are the same as every other
 * request; the framing is in portforward-frames.ts.
 */
import type net from 'node:net';
import {
  DATA_CHANNEL,
  encodeFrame,
  PORT_FORWARD_PROTOCOL,
  PortForwardDecoder,
  portForwardPath,
} from './portforward-frames.js';

/** The part of a WebSocket (ws's, in real use) the port-forward uses. */
export interface ChannelSocket {
  send(data: Buffer, done?: (err?: Error) => void): void;
  /** Drops the connection at once (no closing handshake to wait for). */
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: 'message', listener: (data: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Opens a WebSocket to an API path with the given subprotocol; resolves once it is open. */
export type OpenChannel = (path: string, protocol: string) => Promise<ChannelSocket>;

/** Opens one stream from a local socket to the pod's port. */
export type PodForwarder = (namespace: string, pod: string, port: number, socket: net.Socket) => Promise<void>;

/**
 * A {@link PodForwarder} over `open`: each local connection gets its own WebSocket, and they end together (a node
 * keeps the stream open after the local side is done, and an open WebSocket would keep platctl from exiting).
 * Text on the error channel (the node could not dial the pod's port) ends the local connection with that error;
 * `onError`, when given, hears it.
 */
export function podForwarder(open: OpenChannel, onError?: (err: Error) => void): PodForwarder {
  return async (namespace, pod, port, socket) => {
    const ws = await open(portForwardPath(namespace, pod, port), PORT_FORWARD_PROTOCOL);
    if (socket.destroyed) {
      ws.terminate();
      return;
    }
    const decoder = new PortForwardDecoder(port);
    const fail = (err: Error) => {
      onError?.(err);
      socket.destroy(err);
      ws.terminate();
    };
    ws.on('message', (message) => {
      let frame: ReturnType<PortForwardDecoder['decode']>;
      try {
        frame = decoder.decode(message);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (!frame) return;
      if (frame.channel === 'error') {
        fail(new Error(`port-forward to ${namespace}/${pod}:${port}: ${frame.bytes.toString('utf8').trim()}`));
        return;
      }
      // Backpressure: stop reading the WebSocket while the local reader is behind.
      if (!socket.write(frame.bytes)) {
        ws.pause();
        socket.once('drain', () => ws.resume());
      }
    });
    ws.on('error', fail);
    ws.on('close', () => socket.end());
    socket.on('data', (chunk: Buffer) => {
      // One frame in flight at a time: the local sender waits for the WebSocket, as a TCP peer would.
      socket.pause();
      ws.send(encodeFrame(DATA_CHANNEL, chunk), () => socket.resume());
    });
    // The local side is gone: so is the stream (a closing handshake could wait 30 s on a node that keeps it open).
    socket.once('close', () => ws.terminate());
  };
}
