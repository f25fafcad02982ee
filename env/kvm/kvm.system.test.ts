// The Linux guest for real: Debian's kernel and our initramfs under QEMU (TCG here), on a real
// testbed, measured by the real CLI; a run killed with SIGKILL, cleaned up and resumed; a boot
// that fails; a run stopped by SIGTERM mid-boot. Boots cost ~10 s each under TCG, so they are few.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { netperfProbe } from '../../actions/lib/measure/session.ts';
import { EnvironmentError } from '../../actions/lib/measure/environment.ts';
import { guestNetworkDown, ruleComment } from '../qemu/network.ts';
import { requireService, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testbedForTests, testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedLayout } from '../testbed/testbed.ts';
import { TINY_PLAN } from '../../actions/lib/testing/plans.ts';
import { kvmEnvironment, startKvm } from './kvm.ts';

const CLI = new URL('../../scripts/virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-kvm-'));
const runIndex = testIndex(1);
const failIndex = testIndex(2);

afterAll(async () => {
  for (const i of [runIndex, failIndex]) {
    await guestNetworkDown(i);
    await testbedDown(i);
  }
  rmSync(work, { recursive: true, force: true });
});

/** What of ours exists for a testbed index: links, iptables rules, QEMU processes on our tap. */
async function leftovers(index: number): Promise<string[]> {
  const g = testbedLayout(index).guestNetwork;
  const found: string[] = [];
  for (const name of [g.bridge, g.tap]) {
    if ((await runCommand(['ip', 'link', 'show', 'dev', name], { timeoutMs: 5000 })).exitCode === 0)
      found.push(`link ${name}`);
  }
  const saved = await runCommand(['iptables-save'], { timeoutMs: 10_000 });
  for (const line of saved.stdout.split('\n'))
    if (new RegExp(`--comment ${ruleComment(index)}(\\s|$)`).test(line)) found.push(`rule ${line}`);
  const qemu = await runCommand(['pgrep', '-f', `ifname=${g.tap},`], { timeoutMs: 5000 });
  for (const pid of qemu.stdout.trim().split('\n').filter(Boolean)) found.push(`qemu ${pid}`);
  return found;
}

function virtnet(args: string[]) {
  return runCommand([process.execPath, CLI, ...args], { timeoutMs: 300_000 });
}

const missing = requireService('root', rootMissing());

describe.skipIf(missing !== null)(`kvm: Linux guest on QEMU (TCG here), real testbed${skipNote(missing)}`, () => {
  it('a run killed with SIGKILL leaves QEMU, tap, bridge and port maps; cleanup removes them; the resumed run completes, marked TCG, and leaves nothing', async () => {
    const out = join(work, 'run');
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--plan', 'quick', '--env', 'kvm', '--index', String(runIndex), '--out', out, '--no-report'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // Bounded: the boot plus one measurement, well inside two minutes even on a loaded machine.
      for (let i = 0; i < 600 && !/\[1\/8\] kvm/.test(output) && child.exitCode === null; i++)
        await new Promise((r) => setTimeout(r, 200));
      expect(output, output).toMatch(/\[1\/8\] kvm/);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(output).toMatch(/== kvm: ready in [\d.]+ s: .*TCG software emulation/);
    const left = await leftovers(runIndex);
    expect(left.some((l) => l.startsWith('qemu '))).toBe(true);
    expect(left).toContain(`link vnet${runIndex}br`);
    expect(left.filter((l) => l.startsWith('rule '))).toHaveLength(5);

    const removed = await kvmEnvironment.cleanup();
    expect(removed.some((l) => l.includes('kvm:qemu'))).toBe(true);
    expect(await leftovers(runIndex)).toEqual([]);
    await testbedDown(runIndex);

    const resumed = await virtnet(['run', '--resume', out, '--index', String(runIndex), '--no-report']);
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    const run = loadRun(out);
    expect(run.manifest.status).toBe('complete');
    expect(run.manifest.sessions).toHaveLength(2);
    const kvm = run.manifest.environmentDescriptions.kvm!;
    expect(kvm.accelerator).toBe('tcg');
    expect(kvm.summary).toMatch(/TCG software emulation \(NOT KVM/);
    expect(kvm.details.kernelVersion).toMatch(/^6\.1\.0-\d+-amd64$/);
    expect(kvm.details.guestImageSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(kvm.details.vhostNet).toMatch(
      /^(on \(vhost auto\)|off \(vhost auto: \/dev\/vhost-net is missing on this host\))$/,
    );
    expect(kvm.details.nic).toBe('virtio (QEMU device virtio-net-pci)');
    expect(kvm.details.guestNicDriver).toBe('virtio_net');
    expect(kvm.variant).toEqual({ base: 'kvm', options: { nic: 'virtio', vhost: 'auto', machine: 'q35' } });
    expect(kvm.startupSeconds).toBeGreaterThan(0);
    const records = run.results.records.filter((r) => r.status === 'ok');
    expect(records).toHaveLength(8);
    for (const r of records.filter((x) => x.test === 'TCP_STREAM')) {
      // Through the guest: above a trickle, never above the 100 Mbit/s link's TCP goodput.
      expect(r.metrics!.throughputMbps).toBeGreaterThan(5);
      expect(r.metrics!.throughputMbps).toBeLessThan(94.5);
    }
    expect(await leftovers(runIndex)).toEqual([]);
    expect(existsSync(join(out, 'logs', 'kvm-console.log'))).toBe(true);
  });

  it('kvm-microvm: the guest on the microvm machine (virtio-net over MMIO, no PCI), measured beside kvm, start-up time recorded for both', async () => {
    const out = join(work, 'microvm');
    // One TCP and one UDP point, 1 s each: the guests run under TCG here.
    const plan = join(work, 'microvm-plan.json');
    writeFileSync(plan, JSON.stringify(TINY_PLAN));
    const r = await virtnet([
      'run',
      '--plan',
      plan,
      '--env',
      'kvm,kvm-microvm',
      '--index',
      String(runIndex),
      '--out',
      out,
      '--no-report',
    ]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = loadRun(out);
    const micro = run.manifest.environmentDescriptions['kvm-microvm']!;
    const pc = run.manifest.environmentDescriptions.kvm!;
    expect(micro.variant).toEqual({ base: 'kvm', options: { nic: 'virtio', vhost: 'auto', machine: 'microvm' } });
    expect(micro.details.machine).toBe('microvm');
    expect(micro.details.qemuCommand).toContain('-machine microvm,acpi=on,pcie=off');
    expect(micro.details.qemuCommand).toContain('-device virtio-net-device,netdev=net0,');
    expect(micro.details.qemuCommand).not.toMatch(/-pci\b/);
    expect(micro.details.nic).toBe('virtio (QEMU device virtio-net-device)');
    // The guest's own word: virtio_net runs eth0 on the virtio-mmio device that ACPI announced.
    expect(micro.details.guestNicDriver).toBe('virtio_net');
    expect(micro.details.guestNicDevice).toMatch(/^\/sys\/devices\/platform\/LNRO0005:\d+\/virtio\d+$/);
    expect(pc.details.guestNicDevice).toMatch(/^\/sys\/devices\/pci0000:00\//);
    expect(micro.summary).toMatch(/microvm \(no PCI, virtio-mmio\)/);
    if (micro.accelerator === 'tcg')
      expect(micro.details.guestTsc).toMatch(
        /^tsc_early_khz=\d+: the host's TSC|^calibrated by the guest against the PIT/,
      );
    for (const d of [micro, pc]) {
      expect(d.accelerator).toBe(d.details.accelerator);
      if (d.accelerator === 'tcg') expect(d.summary).toMatch(/TCG software emulation \(NOT KVM/);
      // Start-up is recorded beside the other guests': until netserver answered.
      expect(d.startupSeconds).toBeGreaterThan(0);
      expect(d.startupSeconds).toBeLessThan(300);
    }
    console.log(
      `start-up: kvm ${pc.startupSeconds!.toFixed(2)} s, kvm-microvm ${micro.startupSeconds!.toFixed(2)} s (boot ${pc.details.bootSeconds} / ${micro.details.bootSeconds} s)`,
    );
    const records = run.results.records.filter((x) => x.environment === 'kvm-microvm');
    expect(records.map((x) => `${x.pointId} ${x.status}`)).toEqual([
      'TCP_STREAM:sendSocketSize=16100 ok',
      'UDP_STREAM:requestSize=1450 ok',
    ]);
    for (const x of records) {
      // Through the guest and the 100 Mbit/s link: above a trickle, never above the link's goodput.
      expect(x.metrics!.throughputMbps).toBeGreaterThan(5);
      expect(x.metrics!.throughputMbps).toBeLessThan(97);
    }
    expect(existsSync(join(out, 'logs', 'kvm-microvm-console.log'))).toBe(true);
    expect(await leftovers(runIndex)).toEqual([]);
  });

  it('SIGTERM while the guest boots stops the run and tears the guest down', async () => {
    const out = join(work, 'sigterm');
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--plan', 'quick', '--env', 'kvm', '--index', String(runIndex), '--out', out, '--no-report'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 300 && !/kvm: booting under/.test(output) && child.exitCode === null; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(output, output).toMatch(/kvm: booting under (TCG|KVM)/);
      expect((await leftovers(runIndex)).some((l) => l.startsWith('qemu '))).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
    } finally {
      child.kill('SIGKILL');
    }
    expect(output).toMatch(/SIGTERM: stopping after tearing down/);
    expect(await leftovers(runIndex)).toEqual([]);
  });

  it('a guest that cannot boot fails at once with a clear error and its console log kept, leaving nothing', async () => {
    const testbed = await testbedForTests(2);
    const logDir = mkdtempSync(join(work, 'fail-'));
    const started = performance.now();
    const error = await startKvm(
      {
        serverAddress: testbed.layout.serverAddress,
        ports: { control: 12865, data: 12866 },
        logDir,
        probe: netperfProbe(testbed.clientPrefix),
        readyTimeoutMs: 120_000,
        settings: { testbedIndex: String(failIndex), accel: 'auto' },
        log: () => {},
      },
      // No /init: the kernel finds no root file system and panics.
      { extraAppend: 'rdinit=/nonexistent' },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EnvironmentError);
    const e = error as EnvironmentError;
    expect(e.message).toMatch(
      /^kvm: kvm guest: the guest failed to boot: "Kernel panic - not syncing: VFS: Unable to mount root fs/,
    );
    expect(e.logFile).toBe(join(logDir, 'kvm-console.log'));
    expect(e.message).toContain(`(console log: ${e.logFile})`);
    expect(readFileSync(e.logFile!, 'utf8')).toMatch(/Kernel panic - not syncing: VFS: Unable to mount root fs/);
    // Given up on the panic, not at the two-minute timeout.
    expect((performance.now() - started) / 1000).toBeLessThan(100);
    expect(await leftovers(failIndex)).toEqual([]);
  });
});
