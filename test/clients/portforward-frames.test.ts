/** The port-forward WebSocket framing (v4.channel.k8s.io): channel byte, the port prefix per channel, the path. */
import { describe, expect, it } from 'vitest';
import {
  DATA_CHANNEL,
  ERROR_CHANNEL,
  encodeFrame,
  PortForwardDecoder,
  portForwardPath,
} from '../../src/clients/portforward-frames.js';
import { isPlatctlError } from '../../src/errors.js';

/** A message as the node sends it: channel byte, then bytes. */
const msg = (channel: number, ...bytes: (number[] | string)[]) =>
  Buffer.concat([Buffer.from([channel]), ...bytes.map((b) => Buffer.from(b as never))]);
/** 8200 as the node announces it: little-endian. */
const PORT_8200 = [0x08, 0x20];

describe('port-forward framing', () => {
  it('puts the channel byte before the data, and nothing else', () => {
    expect([...encodeFrame(DATA_CHANNEL, Buffer.from('GET /'))]).toEqual([0, ...Buffer.from('GET /')]);
    expect([...encodeFrame(ERROR_CHANNEL, new Uint8Array(0))]).toEqual([1]);
  });

  it('asks for one port of one pod, names escaped', () => {
    expect(portForwardPath('vault', 'vault-0', 8200)).toBe(
      '/api/v1/namespaces/vault/pods/vault-0/portforward?ports=8200',
    );
    expect(portForwardPath('a b', 'p/q', 1)).toBe('/api/v1/namespaces/a%20b/pods/p%2Fq/portforward?ports=1');
  });

  it("drops each channel's port prefix once, then passes data and error text through", () => {
    const d = new PortForwardDecoder(8200);
    expect(d.decode(msg(0, PORT_8200))).toBeUndefined();
    expect(d.decode(msg(1, PORT_8200))).toBeUndefined();
    // After the prefix, bytes that look like a port are data.
    expect(d.decode(msg(0, PORT_8200))).toEqual({ channel: 'data', bytes: Buffer.from(PORT_8200) });
    expect(d.decode(msg(0, 'HTTP/1.1 200 OK'))).toEqual({ channel: 'data', bytes: Buffer.from('HTTP/1.1 200 OK') });
    expect(d.decode(msg(1, 'dial tcp: connection refused'))).toEqual({
      channel: 'error',
      bytes: Buffer.from('dial tcp: connection refused'),
    });
  });

  it('takes a prefix split over two messages, or joined to the first data', () => {
    const split = new PortForwardDecoder(8200);
    expect(split.decode(msg(0, [0x08]))).toBeUndefined();
    expect(split.decode(msg(0, [0x20], 'hi'))).toEqual({ channel: 'data', bytes: Buffer.from('hi') });
    const joined = new PortForwardDecoder(8200);
    expect(joined.decode(msg(0, PORT_8200, 'hello'))).toEqual({ channel: 'data', bytes: Buffer.from('hello') });
    // The error channel's prefix is its own: data on channel 0 does not consume it.
    expect(joined.decode(msg(1, PORT_8200, 'oops'))).toEqual({ channel: 'error', bytes: Buffer.from('oops') });
  });

  it('ignores an empty data message, and refuses a wrong port, an unknown channel, a message with no channel', () => {
    const d = new PortForwardDecoder(8200);
    d.decode(msg(0, PORT_8200));
    expect(d.decode(msg(0))).toBeUndefined();
    const wrong = new PortForwardDecoder(8200);
    expect(() => wrong.decode(msg(0, [0x20, 0x08]))).toThrow('the server announced port 2080, not 8200');
    expect(() => new PortForwardDecoder(8200).decode(msg(2, PORT_8200))).toThrow(/channel 2/);
    let caught: unknown;
    try {
      new PortForwardDecoder(8200).decode(Buffer.alloc(0));
    } catch (err) {
      caught = err;
    }
    expect(isPlatctlError(caught) && caught.code).toBe('KUBE_API');
  });
});
