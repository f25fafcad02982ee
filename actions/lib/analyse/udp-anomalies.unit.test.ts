// The UDP check on the records of the committed reproduction: every UDP point of the paper plan
// sweeps the datagram with -r under a fixed -m 3100, and every record's receiver got exactly what
// its sender sent. The check must see that (no warning), and still catch a stale datagram planted in
// one of those real records.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sentDatagram, udpAnomalies } from './analysis.ts';
import { parseResults, type MeasurementRecord } from '../measure/records.ts';

const RUN = join(new URL('../../../reports/runs/20261204T171317-f726c9', import.meta.url).pathname);
const records = parseResults(readFileSync(join(RUN, 'results.jsonl'), 'utf8')).records;
const udp = records.filter((r) => r.test === 'UDP_STREAM' && r.status === 'ok');

/** A copy of a real record whose receiver also got `extra` datagrams of `bytes` each from an earlier test. */
function withStale(r: MeasurementRecord, extra: number, bytes: number): MeasurementRecord {
  const m = r.metrics!;
  return { ...r, metrics: { ...m, recvCalls: m.recvCalls + extra, bytesReceived: m.bytesReceived + extra * bytes } };
}

describe('udpAnomalies on the committed run 20261204T171317-f726c9', () => {
  it('reads the datagram of each point from -r, which the paper plan sweeps', () => {
    expect(udp.length).toBe(271);
    for (const r of udp) {
      expect(sentDatagram(r)).toEqual({ option: '-r', bytes: r.value });
      // netperf's own counts agree: every send call was one -r datagram, though -m says 3100.
      expect(r.metrics!.bytesSent).toBe(r.metrics!.sendCalls * r.value);
      expect(r.metrics!.messageSize).toBe(3100);
    }
  });

  it('finds no anomaly in any of its 271 UDP records', () => {
    expect(udpAnomalies(records)).toEqual([]);
  });

  it('still catches a stale datagram of another size planted in one of them', () => {
    const target = udp.find((r) => r.value === 550)!;
    // One datagram of the previous point's size (-r 450) arrives on top of what was sent.
    const planted = records.map((r) => (r === target ? withStale(r, 1, 450) : r));
    const found = udpAnomalies(planted);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      environment: target.environment,
      parameter: 'requestSize',
      x: 550,
      replicate: target.replicate,
      datagram: { option: '-r', bytes: 550 },
    });
    expect(found[0]!.reason).toMatch(
      /received \d+ messages of \d+ sent; received \d+ B in \d+ messages, not 550 B each \(-r 550\)/,
    );
  });

  it('catches stale datagrams of the same size by their count alone', () => {
    const target = udp.find((r) => r.value === 1450 && r.metrics!.recvCalls === r.metrics!.sendCalls)!;
    const found = udpAnomalies([withStale(target, 3, 1450)]);
    expect(found.map((u) => u.reason)).toEqual([
      `received ${target.metrics!.recvCalls + 3} messages of ${target.metrics!.sendCalls} sent`,
    ]);
  });

  it('takes -m as the datagram where the command gives no -r', () => {
    const r = { command: ['netperf', '-t', 'UDP_STREAM', '--', '-k', 'X', '-m', '1450', '-R', '1'], metrics: null };
    expect(sentDatagram(r)).toEqual({ option: '-m', bytes: 1450 });
    // Options before "--" are netperf's global ones (-r is not among them): not the datagram.
    expect(sentDatagram({ command: ['netperf', '-r', '9', '--', '-m', '300'], metrics: null })).toEqual({
      option: '-m',
      bytes: 300,
    });
  });
});
