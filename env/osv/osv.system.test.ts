// The OSv driver: readiness and teardown against a stand-in guest (the Linux guest booted in
// OSv's place, asking for its address by DHCP as OSv does), and a real OSv image end to end when
// one is given (--osv-image / VIRTNET_OSV_IMAGE; scripts/build-osv-image.ts builds one).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetperfOutput, netperfArgs } from '../../actions/lib/measure/netperf.ts';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { netperfProbe } from '../../actions/lib/measure/session.ts';
import type { EnvironmentContext } from '../../actions/lib/measure/environment.ts';
import { ensureGuestImage, kernelCommandLine } from '../kvm/guest-image.ts';
import { guestNetworkDown, ruleComment } from '../qemu/network.ts';
import { requireService, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testbedForTests, testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedLayout } from '../testbed/testbed.ts';
import { NO_IMAGE_REASON, osvEnvironment, osvImageSetting, startOsv } from './osv.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-osv-'));
const index = testIndex(3);
afterAll(async () => {
  await guestNetworkDown(index);
  await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

async function leftovers(): Promise<string[]> {
  const g = testbedLayout(index).guestNetwork;
  const found: string[] = [];
  for (const name of [g.bridge, g.tap])
    if ((await runCommand(['ip', 'link', 'show', 'dev', name], { timeoutMs: 5000 })).exitCode === 0)
      found.push(`link ${name}`);
  const saved = await runCommand(['iptables-save'], { timeoutMs: 10_000 });
  for (const line of saved.stdout.split('\n'))
    if (line.includes(`--comment ${ruleComment(index)} `)) found.push(`rule ${line}`);
  for (const pattern of [`ifname=${g.tap},`, `udhcpd -f .*${g.bridge}`]) {
    const p = await runCommand(['pgrep', '-f', pattern], { timeoutMs: 5000 });
    for (const pid of p.stdout.trim().split('\n').filter(Boolean)) found.push(`process ${pid} (${pattern})`);
  }
  return found;
}

async function context(settings: Record<string, string>): Promise<{ ctx: EnvironmentContext; clientPrefix: string[] }> {
  const testbed = await testbedForTests(3);
  return {
    clientPrefix: testbed.clientPrefix,
    ctx: {
      serverAddress: testbed.layout.serverAddress,
      ports: { control: 12865, data: 12866 },
      logDir: mkdtempSync(join(work, 'logs-')),
      probe: netperfProbe(testbed.clientPrefix),
      readyTimeoutMs: 180_000,
      settings: { testbedIndex: String(index), accel: 'auto', ...settings },
      log: () => {},
    },
  };
}

const missing = requireService('root', rootMissing());

describe.skipIf(missing !== null)(`osv driver (needs root for the guest network)${skipNote(missing)}`, () => {
  it('waits for netserver on the console and the port maps, with the guest addressed by DHCP, and tears everything down', async () => {
    const { ctx, clientPrefix } = await context({});
    const { image } = await ensureGuestImage();
    // The stand-in asks for DHCP like OSv; netserver's own start line is OSv's ready marker too.
    const boot = {
      kind: 'kernel' as const,
      kernel: image.kernel,
      initrd: image.initrd,
      append: kernelCommandLine({ address: 'dhcp', gateway: null, port: 12865, quiet: true }),
    };
    const started = await startOsv(ctx, { boot });
    try {
      expect(started.description.accelerator).toMatch(/^(tcg|kvm)$/);
      expect(started.description.details.guestAddressing).toMatch(/^DHCP from busybox udhcpd/);
      expect(started.description.details.qemuCommand).toContain(`ifname=vnet${index}tap`);
      expect(started.description.details.qemuCommand).toContain('virtio-rng-pci');
      const args = netperfArgs({ test: 'TCP_STREAM', messageSize: 131072 }, started.endpoint, {
        testLengthSeconds: 1,
        confidence: null,
      });
      const r = await runCommand([...clientPrefix, 'netperf', ...args], { timeoutMs: 30_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(parseNetperfOutput(r.stdout).throughputMbps).toBeGreaterThan(1);
      expect(await leftovers()).toEqual(expect.arrayContaining([`link vnet${index}br`, `link vnet${index}tap`]));
    } finally {
      await started.stop();
      await started.stop(); // idempotent
    }
    expect(await leftovers()).toEqual([]);
  });

  it('boots a real OSv image end to end when one is given', async (t) => {
    const image = osvImageSetting({});
    const noImage = requireService('osv-image', image ? null : NO_IMAGE_REASON);
    if (noImage !== null) t.skip(noImage);
    const { ctx, clientPrefix } = await context({ osvImage: image! });
    expect(await osvEnvironment.available(ctx.settings)).toEqual({ ok: true });
    const started = await osvEnvironment.start(ctx);
    try {
      expect(started.description.details.osvImageSha256).toMatch(/^[0-9a-f]{64}$/);
      for (const test of ['TCP_STREAM', 'UDP_STREAM'] as const) {
        const args = netperfArgs(
          test === 'TCP_STREAM' ? { test, messageSize: 131072, sendSocketSize: 16100 } : { test, messageSize: 1450 },
          started.endpoint,
          { testLengthSeconds: 2, confidence: null },
        );
        const r = await runCommand([...clientPrefix, 'netperf', ...args], { timeoutMs: 30_000 });
        expect(r.exitCode, r.stderr).toBe(0);
        expect(parseNetperfOutput(r.stdout).throughputMbps).toBeGreaterThan(1);
      }
    } finally {
      await started.stop();
    }
    expect(await leftovers()).toEqual([]);
  });
});
