import { describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { Daemon } from '../../actions/lib/core/proc.ts';
import { parseNetperfOutput, netperfArgs } from '../../actions/lib/measure/netperf.ts';
import { requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedLayout, testbedStatus, testbedUp } from './testbed.ts';

const missing = requireServices([['root', rootMissing()]]);

describe.skipIf(missing !== null)(`testbed (needs root for namespaces)${skipNote(missing)}`, () => {
  const index = testIndex(0);

  it('comes up idempotently, shapes the link like 100BASE-TX, and goes down without a trace', async () => {
    await testbedDown(index);
    try {
      const a = await testbedUp({ index, rateMbit: 100 });
      const b = await testbedUp({ index, rateMbit: 100 });
      expect(b.layout).toEqual(a.layout);
      const status = await testbedStatus(index);
      expect(status.up).toBe(true);
      expect(status.qdisc).toMatch(/tbf .*rate 100Mbit/);

      const l = testbedLayout(index);
      const netserver = new Daemon(['netserver', '-D', '-f', '-4', '-L', l.serverAddress, '-p', '12865'], {
        label: 'test:netserver',
      });
      try {
        await new Promise((r) => setTimeout(r, 300));
        const args = netperfArgs(
          { test: 'TCP_STREAM', messageSize: 131072 },
          { address: l.serverAddress, controlPort: 12865, dataPort: 12866 },
          { testLengthSeconds: 2, confidence: null },
        );
        const r = await runCommand([...a.clientPrefix, 'netperf', ...args], { timeoutMs: 20_000 });
        expect(r.exitCode, r.stderr).toBe(0);
        const m = parseNetperfOutput(r.stdout);
        // 100BASE-TX TCP goodput is 100 x 1448/1538 = 94.15 Mbit/s. A shaped link never beats it by
        // more than rounding (an unshaped veth gives tens of Gbit/s, plain tbf ~95.5); a loaded CI
        // machine may fall short of it, so the lower bound is loose. npm run bench measures the
        // plateau precisely.
        expect(m.throughputMbps).toBeLessThan(94.15 * 1.005);
        expect(m.throughputMbps).toBeGreaterThan(75);
      } finally {
        await netserver.stop();
      }
    } finally {
      await testbedDown(index);
    }
    const after = await testbedStatus(index);
    expect(after).toMatchObject({ up: false, namespace: false, serverInterface: false });
    const links = await runCommand(['ip', '-o', 'link', 'show'], { timeoutMs: 5000 });
    expect(links.stdout).not.toContain(testbedLayout(index).serverInterface);
  });

  it('refuses an index outside its range', () => {
    expect(() => testbedLayout(64)).toThrow(/out of range/);
  });
});
