import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/input.ts';
import {
  type EndpointFile,
  endpointFileText,
  parseCoordinatorRequest,
  parseCoordinatorResponse,
  parseEndpointFile,
  releasedMarker,
  releaseRequest,
  SERVE_DEFAULTS,
  SERVE_OPTIONS,
  type ServeRequest,
  serveArgs,
  serveArgv,
  serveRequestFrom,
  ServeProtocolError,
} from './serve-protocol.ts';

const request: ServeRequest = {
  environment: 'osv',
  serverAddress: '198.18.5.1',
  testbedIndex: 5,
  controlPort: 2000,
  dataPort: 2001,
  coordinatorPort: 0,
  readyTimeoutSeconds: 60,
  holdTimeoutMinutes: 30,
  accelerator: 'tcg',
  osvImage: '/images/usr img.qcow2',
  endpointFile: '/rt/virtnet-endpoint-osv.json',
};

const parsed = (args: string[]) => parseArgs({ args: args.slice(1), options: SERVE_OPTIONS, strict: true }).values;

const endpoint: EndpointFile = {
  pid: 4242,
  environment: 'native',
  endpoint: { address: '198.18.5.1', controlPort: 12865, dataPort: 12866, dataAddress: '198.18.5.1' },
  coordinatorPort: 12867,
  description: {
    name: 'native',
    summary: 'netserver 2.7.0 on the host',
    details: { kernel: '6.1' },
    accelerator: 'none',
    startupSeconds: 0.03,
  },
  startedAt: '2026-01-01T00:00:00.000Z',
  holdUntil: '2026-01-01T06:00:00.000Z',
};

describe('starting virtnet serve', () => {
  it('what the action writes is what serve reads, every field', () => {
    const args = serveArgs(request);
    expect(args[0]).toBe('serve');
    expect(serveRequestFrom(parsed(args))).toEqual(request);
    expect(
      serveRequestFrom(parsed(serveArgs({ ...request, serverAddress: null, osvImage: null, logDir: '/logs' }))),
    ).toEqual({ ...request, serverAddress: null, osvImage: null, logDir: '/logs' });
    expect(serveArgv(request, '/node', '/checkout').slice(0, 3)).toEqual([
      '/node',
      '/checkout/scripts/virtnet.ts',
      'serve',
    ]);
  });

  it('fills the defaults the action shares', () => {
    expect(serveRequestFrom({ env: 'native', 'endpoint-file': '/e.json' })).toEqual({
      environment: 'native',
      serverAddress: null,
      endpointFile: '/e.json',
      osvImage: null,
      testbedIndex: SERVE_DEFAULTS.testbedIndex,
      controlPort: SERVE_DEFAULTS.controlPort,
      dataPort: SERVE_DEFAULTS.dataPort,
      coordinatorPort: SERVE_DEFAULTS.coordinatorPort,
      readyTimeoutSeconds: SERVE_DEFAULTS.readyTimeoutSeconds,
      holdTimeoutMinutes: SERVE_DEFAULTS.holdTimeoutMinutes,
      accelerator: SERVE_DEFAULTS.accelerator,
    });
  });

  it.each([
    [{}, 'env', 'is required: the one environment to serve'],
    [{ env: 'native' }, 'endpoint-file', 'is required: where to write the endpoint once ready'],
    [{ env: 'native', 'endpoint-file': '/e', index: '64' }, 'index', '64 is out of range: expected 0 to 63'],
    [
      { env: 'native', 'endpoint-file': '/e', 'coordinator-port': 'x' },
      'coordinator-port',
      'expected a whole number, got "x"',
    ],
    [{ env: 'native', 'endpoint-file': '/e', accel: 'hvf' }, 'accel', 'expected auto, kvm or tcg, got "hvf"'],
  ])('refuses %j naming the option', (values, field, problem) => {
    try {
      serveRequestFrom(values);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect(e).toMatchObject({ field, problem });
    }
  });
});

describe('the endpoint file and the release marker', () => {
  it('round-trips', () => {
    expect(parseEndpointFile(endpointFileText(endpoint), '/e.json')).toEqual(endpoint);
    expect(releasedMarker('/rt/virtnet-endpoint-native.json')).toBe('/rt/virtnet-endpoint-native.json.released');
  });

  it('names the file and every bad field with its value', () => {
    const bad = {
      ...endpoint,
      pid: -1,
      endpoint: { ...endpoint.endpoint, controlPort: 70000 },
      description: { ...endpoint.description, accelerator: 'hvf' },
    };
    const error = (() => {
      try {
        parseEndpointFile(JSON.stringify(bad), '/rt/e.json');
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(ServeProtocolError);
    expect(error.message).toMatch(/^invalid endpoint file \/rt\/e\.json:/);
    expect(error.message).toMatch(/pid: -1 is out of range: expected 1 to/);
    expect(error.message).toMatch(/endpoint\.controlPort: 70000 is out of range: expected 1 to 65535/);
    expect(error.message).toMatch(/description\.accelerator: "hvf" is not one of none, kvm, tcg/);
    expect(() => parseEndpointFile('{"pid": 1', '/rt/e.json')).toThrow(/^endpoint file \/rt\/e\.json is not JSON/);
    expect(() => endpointFileText({ ...endpoint, startedAt: 'yesterday' })).toThrow(/startedAt/);
  });
});

describe('coordinator messages', () => {
  it('requests: two kinds, nothing else', () => {
    expect(parseCoordinatorRequest(releaseRequest('kvm'))).toEqual({ kind: 'release', environment: 'kvm' });
    expect(parseCoordinatorRequest(releaseRequest('kvm', '12-1', 'k'.repeat(16)))).toEqual({
      kind: 'release',
      environment: 'kvm',
      runKey: '12-1',
      releaseKey: 'k'.repeat(16),
    });
    expect(parseCoordinatorRequest('status\r')).toEqual({ kind: 'status' });
    for (const junk of ['', 'status now', 'release ../etc', 'release KVM', 'x'.repeat(300)])
      expect(() => parseCoordinatorRequest(junk), junk).toThrow(/unknown request/);
  });

  it('answers are checked field by field', () => {
    const status = {
      environment: 'native',
      endpoint: endpoint.endpoint,
      released: false,
      description: endpoint.description,
      host: null,
    };
    expect(parseCoordinatorResponse(JSON.stringify({ ok: true, status }), 'x:1')).toEqual({ ok: true, status });
    expect(parseCoordinatorResponse('{"ok":false,"error":"no"}', 'x:1')).toEqual({ ok: false, error: 'no' });
    expect(() =>
      parseCoordinatorResponse(
        JSON.stringify({ ok: true, status: { ...status, environment: '<img src=x>' } }),
        '198.18.0.1:12867',
      ),
    ).toThrow(/^coordinator 198\.18\.0\.1:12867: invalid answer: status\.environment: "<img src=x>" does not fit/);
    expect(() =>
      parseCoordinatorResponse(JSON.stringify({ ok: true, status: { ...status, host: { role: 'server' } } }), 'x:1'),
    ).toThrow(/host\.hostname/);
    expect(() => parseCoordinatorResponse('HTTP/1.1 400', 'x:1')).toThrow(/unreadable answer "HTTP\/1\.1 400"/);
  });
});
