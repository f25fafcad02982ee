import { isAlive } from '../../actions/lib/core/liveness.ts';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Daemon, processStartTicks, runCommand } from '../../actions/lib/core/proc.ts';
import { delayLineState, delayLineStats } from './delay-line.ts';
import { requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedLayout, testbedStatus, testbedUp } from './testbed.ts';

const missing = requireServices([['root', rootMissing()]]);

describe.skipIf(missing !== null)(`the delay line on a real testbed (needs root)${skipNote(missing)}`, () => {
  const index = testIndex(8);
  const l = testbedLayout(index);
  const port = 12865 + 100 + index; // a control port of its own: no other netserver answers here

  /** Median TCP_RR round trip in microseconds (netperf's P50_LATENCY), or the failure. */
  async function roundTrip(
    seconds = 2,
    timeoutMs = (seconds + 15) * 1000,
  ): Promise<{ p50: number | null; output: string }> {
    const r = await runCommand(
      [
        'ip',
        'netns',
        'exec',
        l.clientNamespace,
        'netperf',
        '-4',
        '-H',
        l.serverAddress,
        '-p',
        String(port),
        '-t',
        'TCP_RR',
        '-l',
        String(seconds),
        '-P',
        '0',
        '--',
        '-k',
        'P50_LATENCY,MEAN_LATENCY',
        '-P',
        `,${port + 1}`,
      ],
      { timeoutMs },
    );
    const m = /P50_LATENCY=(\d+)/.exec(r.stdout);
    return { p50: r.exitCode === 0 && m ? Number(m[1]) : null, output: `${r.stdout}${r.stderr}` };
  }

  it('adds twice the one-way delay to the round trip; keeps, replaces and removes the program as asked; teardown leaves nothing', async () => {
    await testbedDown(index);
    await testbedUp({ index, rateMbit: 100 });
    const netserver = new Daemon(['netserver', '-D', '-f', '-4', '-L', l.serverAddress, '-p', String(port)], {
      label: 'test:netserver',
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const bare = await roundTrip();
      expect(bare.p50, bare.output).not.toBeNull();

      const delayUs = 1000;
      const first = await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: delayUs });
      expect(first.link.oneWayDelayMicroseconds).toBe(delayUs);
      expect(first.delayLinePid).not.toBeNull();
      const firstTicks = processStartTicks(first.delayLinePid!);
      const delayed = await roundTrip();
      expect(delayed.p50, delayed.output).not.toBeNull();
      // The line never releases early, so the round trip grows by at least 2d (less a little noise
      // in the bare figure). The upper bound only catches a hold of the wrong order (a unit slip
      // would add seconds): on a 2-core machine at load 12 the median round trip grew by 2d + 3 ms.
      // npm run bench measures the accuracy itself.
      const added = delayed.p50! - bare.p50!;
      expect(added).toBeGreaterThanOrEqual(2 * delayUs - 20);
      expect(added).toBeLessThan(5 * 2 * delayUs + 5000);
      const stats = await delayLineStats(index);
      expect(stats?.packets).toBeGreaterThan(100);
      expect(stats?.netlinkOverruns).toBe(0);

      // Up again as it is: the same process. Another delay: another process. No delay: none.
      expect((await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: delayUs })).delayLinePid).toBe(
        first.delayLinePid,
      );
      const changed = await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: 200 });
      expect(changed.delayLinePid).not.toBe(first.delayLinePid);
      const changedTicks = processStartTicks(changed.delayLinePid!);
      expect(isAlive(first.delayLinePid!, firstTicks)).toBe(false);
      const off = await testbedUp({ index, rateMbit: 100 });
      expect(off.delayLinePid).toBeNull();
      expect(isAlive(changed.delayLinePid!, changedTicks)).toBe(false);
      const rules = await runCommand(['ip', 'netns', 'exec', l.clientNamespace, 'iptables', '-t', 'mangle', '-S'], {
        timeoutMs: 10_000,
      });
      expect(rules.stdout).not.toContain('NFQUEUE');
      const again = await roundTrip(1);
      expect(again.p50, again.output).toBeLessThan(bare.p50! + 500);

      const last = await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: delayUs });
      const log = delayLineState(index)!.log;
      const lastTicks = processStartTicks(last.delayLinePid!);
      await testbedDown(index);
      expect(isAlive(last.delayLinePid!, lastTicks)).toBe(false);
      expect(delayLineState(index)).toBeNull();
      expect(readFileSync(log, 'utf8')).toMatch(/^stats packets=/m); // it was stopped, and said goodbye
      expect(await testbedStatus(index)).toMatchObject({
        up: false,
        namespace: false,
        serverInterface: false,
        delayLine: null,
      });
      expect(existsSync(`/run/netns/${l.clientNamespace}`)).toBe(false);
    } finally {
      await netserver.stop();
      await testbedDown(index);
    }
  });

  it('drops packets rather than passing them undelayed when the program is gone, and up brings it back', async () => {
    await testbedDown(index);
    const testbed = await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: 300 });
    const netserver = new Daemon(['netserver', '-D', '-f', '-4', '-L', l.serverAddress, '-p', String(port)], {
      label: 'test:netserver',
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect((await roundTrip(1)).p50).not.toBeNull();
      process.kill(testbed.delayLinePid!, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      expect((await testbedStatus(index)).delayLine).toMatchObject({ pid: testbed.delayLinePid, running: false });
      const cut = await roundTrip(1, 5000); // no SYN gets through: netperf hangs until killed
      expect(cut.p50, `a transaction got through without the delay line: ${cut.output}`).toBeNull();
      const back = await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: 300 });
      expect(back.delayLinePid).not.toBe(testbed.delayLinePid);
      expect((await roundTrip(1)).p50).toBeGreaterThanOrEqual(600 - 20);
    } finally {
      await netserver.stop();
      await testbedDown(index);
    }
  });

  it("makes the client namespace send with cubic (the paper's) and leaves the host as it was", async () => {
    await testbedDown(index);
    const hostCc = readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim();
    const allowed = readFileSync('/proc/sys/net/ipv4/tcp_allowed_congestion_control', 'utf8').trim();
    try {
      const testbed = await testbedUp({ index, rateMbit: 100 });
      expect(testbed.congestionControl).toBe('cubic');
      const read = () =>
        runCommand(['ip', 'netns', 'exec', l.clientNamespace, 'cat', '/proc/sys/net/ipv4/tcp_congestion_control'], {
          timeoutMs: 5000,
        });
      expect((await read()).stdout.trim()).toBe('cubic');
      expect((await testbedUp({ index, rateMbit: 100, congestionControl: 'reno' })).congestionControl).toBe('reno');
      expect((await read()).stdout.trim()).toBe('reno');
      await expect(testbedUp({ index, rateMbit: 100, congestionControl: 'nosuchcc' })).rejects.toThrow(
        /congestion control "nosuchcc" cannot be set in vnet\d+-client: this kernel has /,
      );
      expect(readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim()).toBe(hostCc);
      expect(readFileSync('/proc/sys/net/ipv4/tcp_allowed_congestion_control', 'utf8').trim()).toBe(allowed);
    } finally {
      await testbedDown(index);
    }
  });
});
