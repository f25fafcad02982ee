// `virtnet cleanup --index N` after a run killed with SIGKILL: it removes what the environments
// left on that testbed (docker's container and its port maps; the kvm guest's QEMU, bridge, tap,
// iptables rules and guest-network state) and nothing of another testbed's.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, runCommand, waitUntil } from '../../actions/lib/core/proc.ts';
import { requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { dockerEnvironment } from '../../env/docker/docker.ts';
import { containerName } from '../../env/docker/spec.ts';
import { kvmEnvironment } from '../../env/kvm/kvm.ts';
import { guestNetworkDown, guestNetworkPlan, guestNetworkUp, ruleComment } from '../../env/qemu/network.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedLayout, testbedStatus } from '../../env/testbed/testbed.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-cleanup-'));
// The runs and cleanups here keep their registry and guest-network state apart from everyone's.
const stateDir = join(work, 'state');
const env = { ...process.env, VIRTNET_STATE_DIR: stateDir };

const docker = (...args: string[]) => runCommand(['docker', ...args], { timeoutMs: 60_000 });
const virtnet = (...args: string[]) => runCommand([process.execPath, CLI, ...args], { timeoutMs: 180_000, env });

/** Starts `virtnet run` on one environment and SIGKILLs it once the first measurement is in. */
async function killedRun(environment: string, index: number): Promise<string> {
  const run = new Daemon(
    [
      process.execPath,
      CLI,
      'run',
      '--plan',
      'quick',
      '--env',
      environment,
      '--index',
      String(index),
      '--out',
      join(work, `${environment}-run`),
      '--no-report',
    ],
    { label: 'test:virtnet-run', env },
  );
  try {
    await waitUntil(
      `the first ${environment} measurement`,
      async () => new RegExp(`\\[1/8\\] ${environment}`).test(run.output),
      { timeoutMs: 240_000, intervalMs: 200, giveUp: () => (run.running ? null : `virtnet run ended: ${run.output}`) },
    );
  } finally {
    run.child.kill('SIGKILL');
    await run.waitForExit();
  }
  return run.output;
}

/** A process that is gone, as an owner identity: what a killed run leaves in labels and state files. */
async function deadOwner(): Promise<{ pid: number; startTicks: string }> {
  const gone = new Daemon(['true'], { label: 'test:gone' });
  const pid = gone.pid!;
  await gone.waitForExit();
  return { pid, startTicks: '1' };
}

async function dnatRulesTo(address: string): Promise<string[]> {
  const saved = await runCommand(['iptables-save', '-t', 'nat'], { timeoutMs: 10_000 });
  return saved.stdout.split('\n').filter((l) => l.includes(`-d ${address}/32`) && l.includes('DNAT'));
}

async function guestLeftovers(index: number): Promise<string[]> {
  const g = testbedLayout(index).guestNetwork;
  const found: string[] = [];
  for (const name of [g.bridge, g.tap])
    if ((await runCommand(['ip', 'link', 'show', 'dev', name], { timeoutMs: 5000 })).exitCode === 0)
      found.push(`link ${name}`);
  const saved = await runCommand(['iptables-save'], { timeoutMs: 10_000 });
  for (const line of saved.stdout.split('\n'))
    if (new RegExp(`--comment ${ruleComment(index)}(\\s|$)`).test(line)) found.push(`rule ${line}`);
  const qemu = await runCommand(['pgrep', '-f', `ifname=${g.tap},`], { timeoutMs: 5000 });
  for (const pid of qemu.stdout.trim().split('\n').filter(Boolean)) found.push(`qemu ${pid}`);
  if (existsSync(join(stateDir, 'guest-networks', `${index}.json`))) found.push(`state ${index}.json`);
  return found;
}

afterAll(async () => {
  for (const i of [0, 1]) await docker('rm', '--force', containerName(testIndex(i)));
  for (const i of [2, 3]) await guestNetworkDown(testIndex(i));
  for (const i of [0, 1, 2, 3]) await testbedDown(testIndex(i));
  rmSync(work, { recursive: true, force: true });
});

const dockerAvailable = await dockerEnvironment.available({});
const dockerMissing = requireServices([
  ['root', rootMissing()],
  ['dockerd', dockerAvailable.ok ? null : dockerAvailable.reason],
]);

describe.skipIf(dockerMissing !== null)(
  `virtnet cleanup --index N after a killed docker run${skipNote(dockerMissing)}`,
  () => {
    it("removes that testbed's container and port maps, and another testbed's container stays", async () => {
      const index = testIndex(0);
      const other = testIndex(1);
      const address = testbedLayout(index).serverAddress;
      const output = await killedRun('docker', index);
      expect(output).toMatch(/== docker: ready/);
      expect(
        (
          await docker('ps', '--all', '--filter', `name=^${containerName(index)}$`, '--format', '{{.Names}}')
        ).stdout.trim(),
      ).toBe(containerName(index));
      expect(await dnatRulesTo(address)).toHaveLength(3);
      // What a killed run on another testbed left: a container of ours whose owner is gone.
      const image = (
        await docker('container', 'inspect', '--format', '{{.Config.Image}}', containerName(index))
      ).stdout.trim();
      const owner = await deadOwner();
      const created = await docker(
        'create',
        '--name',
        containerName(other),
        '--label',
        'virtnet=1',
        '--label',
        `virtnet.testbed=${other}`,
        '--label',
        `virtnet.owner=${owner.pid}:${owner.startTicks}`,
        image,
      );
      expect(created.exitCode, created.stderr).toBe(0);

      const r = await virtnet('cleanup', '--index', String(index));
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain(`container ${containerName(index)} (`);
      expect(
        (
          await docker('ps', '--all', '--filter', `name=^${containerName(index)}$`, '--format', '{{.Names}}')
        ).stdout.trim(),
      ).toBe('');
      expect(await dnatRulesTo(address)).toEqual([]);
      expect((await testbedStatus(index)).up).toBe(false);
      expect(r.stdout).not.toContain(containerName(other));
      expect(
        (
          await docker('ps', '--all', '--filter', `name=^${containerName(other)}$`, '--format', '{{.Names}}')
        ).stdout.trim(),
      ).toBe(containerName(other));

      const again = await virtnet('cleanup', '--index', String(other));
      expect(again.stdout).toContain(`container ${containerName(other)} (`);
      expect(
        (
          await docker('ps', '--all', '--filter', `name=^${containerName(other)}$`, '--format', '{{.Names}}')
        ).stdout.trim(),
      ).toBe('');
    });
  },
);

const kvmAvailable = await kvmEnvironment.available({});
const kvmMissing = requireServices([
  ['root', rootMissing()],
  ['qemu', kvmAvailable.ok ? null : kvmAvailable.reason],
]);

describe.skipIf(kvmMissing !== null)(`virtnet cleanup --index N after a killed kvm run${skipNote(kvmMissing)}`, () => {
  it("removes that testbed's QEMU, bridge, tap, rules and guest-network state, and another testbed's guest network stays", async () => {
    const index = testIndex(2);
    const other = testIndex(3);
    const output = await killedRun('kvm', index);
    expect(output).toMatch(/== kvm: ready/);
    const left = await guestLeftovers(index);
    expect(left.some((l) => l.startsWith('qemu '))).toBe(true);
    expect(left).toEqual(
      expect.arrayContaining([`link vnet${index}br`, `link vnet${index}tap`, `state ${index}.json`]),
    );
    expect(left.filter((l) => l.startsWith('rule '))).toHaveLength(5);
    // Another testbed's guest network, left by a run that is gone.
    const savedStateDir = process.env.VIRTNET_STATE_DIR;
    process.env.VIRTNET_STATE_DIR = stateDir;
    try {
      await guestNetworkUp(guestNetworkPlan(other, { control: 12865, data: 12866 }));
    } finally {
      if (savedStateDir === undefined) delete process.env.VIRTNET_STATE_DIR;
      else process.env.VIRTNET_STATE_DIR = savedStateDir;
    }
    const stateFile = join(stateDir, 'guest-networks', `${other}.json`);
    const owner = await deadOwner();
    writeFileSync(
      stateFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(stateFile, 'utf8')),
        owner: owner.pid,
        ownerStartTicks: owner.startTicks,
      }),
    );
    const otherBefore = await guestLeftovers(other);
    expect(otherBefore).toEqual(
      expect.arrayContaining([`link vnet${other}br`, `link vnet${other}tap`, `state ${other}.json`]),
    );

    const r = await virtnet('cleanup', '--index', String(index));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kvm:qemu/);
    expect(await guestLeftovers(index)).toEqual([]);
    expect((await testbedStatus(index)).up).toBe(false);
    expect(await guestLeftovers(other)).toEqual(otherBefore);

    const again = await virtnet('cleanup', '--index', String(other));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await guestLeftovers(other)).toEqual([]);
  });
});
