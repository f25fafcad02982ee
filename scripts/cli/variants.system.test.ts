// Environment variants end to end: `virtnet run --env docker-host,kvm-e1000,...` with the real CLI,
// a real dockerd, a real QEMU guest (TCG here: the plan is two points, one replicate, 1 s tests),
// real netperf on a real namespace testbed; the vhost variants are skipped with the reason where
// the host has no vhost-net; a user's variants file adds a variant without code.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown } from '../../env/testbed/testbed.ts';
import { dockerEnvironment } from '../../env/docker/docker.ts';
import { kvmEnvironment } from '../../env/kvm/kvm.ts';
import { containerName } from '../../env/docker/spec.ts';
import { guestNetworkDown } from '../../env/qemu/network.ts';
import { TINY_PLAN } from '../../actions/lib/testing/plans.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const index = testIndex(6);
const work = mkdtempSync(join(tmpdir(), 'virtnet-variants-run-'));
afterAll(async () => {
  // Also on failure: our container, guest network and testbed, on our index only.
  await runCommand(['docker', 'rm', '--force', containerName(index)], { timeoutMs: 60_000 }).catch(() => {});
  await guestNetworkDown(index);
  await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

function virtnet(...args: string[]) {
  return runCommand([process.execPath, CLI, ...args], { timeoutMs: 600_000 });
}

const docker = await dockerEnvironment.available({});
const qemu = await kvmEnvironment.available({});
const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
  ['dockerd', docker.ok ? null : docker.reason],
  ['qemu', qemu.ok ? null : qemu.reason],
]);

describe.skipIf(missing !== null)(`virtnet run on variants (real testbed, dockerd, QEMU)${skipNote(missing)}`, () => {
  const plan = join(work, 'tiny.json');
  writeFileSync(plan, JSON.stringify(TINY_PLAN));

  it('measures docker-host and kvm-e1000 with their options in the manifest, and skips the vhost variants with the reason', async () => {
    const out = join(work, 'variants');
    const vhostDevice = existsSync('/dev/vhost-net');
    const envs = vhostDevice ? 'docker-host,kvm-e1000' : 'docker-host,kvm-e1000,kvm-vhost,osv-vhost';
    const r = await virtnet('run', '--plan', plan, '--env', envs, '--out', out, '--index', String(index));
    const run = loadRun(out);
    const d = run.manifest.environmentDescriptions;

    // docker-host: the container in the server's namespace, netserver bound to the testbed address.
    const host = d['docker-host']!;
    expect(host.variant).toEqual({ base: 'docker', options: { network: 'host', runtime: 'runc' } });
    expect(host.details.networkMode).toBe('host');
    expect(host.details.containerCommand).toBe(`netserver -D -f -4 -L 198.18.${index}.1 -p 12865`);
    expect(host.details.ports).toMatch(/^none published/);
    expect(host.summary).toMatch(/host network/);

    // kvm-e1000: QEMU's e1000 device, and the guest's kernel says its e1000 driver runs eth0.
    const e1000 = d['kvm-e1000']!;
    expect(e1000.variant).toEqual({ base: 'kvm', options: { nic: 'e1000', vhost: 'off', machine: 'q35' } });
    expect(e1000.details.qemuCommand).toContain('-device e1000,netdev=net0,');
    expect(e1000.details.qemuCommand).not.toContain('virtio-net-pci');
    expect(e1000.details.qemuCommand).not.toContain('vhost=on');
    expect(e1000.details.guestNicDriver).toBe('e1000');
    expect(e1000.details.vhostNet).toBe('off (vhost off)');
    expect(existsSync(join(out, 'logs', 'kvm-e1000-console.log'))).toBe(true);

    for (const env of ['docker-host', 'kvm-e1000']) {
      const records = run.results.records.filter((x) => x.environment === env);
      expect(
        records.map((x) => `${x.pointId} ${x.status}`),
        env,
      ).toEqual(['TCP_STREAM:sendSocketSize=16100 ok', 'UDP_STREAM:requestSize=1450 ok']);
      // Through the 100 Mbit/s testbed link: more than a trickle, never above its TCP/UDP goodput.
      for (const x of records) {
        expect(x.metrics!.throughputMbps, `${env} ${x.pointId}`).toBeGreaterThan(5);
        expect(x.metrics!.throughputMbps, `${env} ${x.pointId}`).toBeLessThan(97);
      }
    }

    if (vhostDevice) {
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(run.manifest.status).toBe('complete');
    } else {
      // No vhost-net on this host: both vhost variants are skipped with the reason, the rest measured.
      for (const env of ['kvm-vhost', 'osv-vhost']) {
        expect(run.manifest.environmentErrors[env], env).toMatch(
          /^not available: vhost-net asked for \(vhost on\), but \/dev\/vhost-net is missing: this host's kernel has no vhost_net/,
        );
        expect(r.stdout).toContain(`== ${env}: skipped: vhost-net asked for (vhost on)`);
        expect(run.results.records.filter((x) => x.environment === env)).toEqual([]);
      }
      expect(run.manifest.status).toBe('incomplete');
    }

    // Charted like any other environment, by its name (a guest's marked TCG), in the colours that
    // follow the paper's four, by name: docker-host the first, kvm-e1000 the second.
    const svg = readFileSync(join(out, 'report/charts/fig4a-tcp-absolute-from-100.svg'), 'utf8');
    expect(svg).toMatch(
      /Environment: docker-host;[^"]*" role="graphics-symbol" aria-roledescription="errorbar" transform="[^"]*" x2="0" y2="0" stroke="#E69F00"/,
    );
    expect(svg).toMatch(
      /Environment: kvm-e1000 \(TCG\);[^"]*" role="graphics-symbol" aria-roledescription="errorbar" transform="[^"]*" x2="0" y2="0" stroke="#56B4E9"/,
    );
    expect(readFileSync(join(out, 'report/claims.md'), 'utf8')).toContain('inconclusive');
    // Nothing left behind: no netserver on the testbed address, no container, no QEMU on our tap.
    const ps = await runCommand(['pgrep', '-a', '-f', `198.18.${index}.1|vnet${index}tap`], { timeoutMs: 5000 });
    expect(ps.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'))).toEqual([]);
    const left = await runCommand(['docker', 'ps', '--all', '--quiet', '--filter', `name=^${containerName(index)}$`], {
      timeoutMs: 30_000,
    });
    expect(left.stdout.trim()).toBe('');
  });

  it("a user's variants file adds a variant without code; a bad one is refused before anything starts", async () => {
    const mine = join(work, 'mine.json');
    writeFileSync(
      mine,
      JSON.stringify({
        variants: [
          { name: 'docker-bridge-too', base: 'docker', options: { network: 'bridge' }, title: 'Docker again' },
        ],
      }),
    );
    const out = join(work, 'user');
    const r = await virtnet(
      'run',
      '--plan',
      plan,
      '--env',
      'docker-bridge-too',
      '--variants',
      mine,
      '--out',
      out,
      '--index',
      String(index),
      '--no-report',
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = loadRun(out);
    expect(run.manifest.environments).toEqual(['docker-bridge-too']);
    const d = run.manifest.environmentDescriptions['docker-bridge-too']!;
    expect(d.variant).toEqual({ base: 'docker', options: { network: 'bridge', runtime: 'runc' } });
    expect(d.details.networkMode).toBe('bridge');
    expect(run.results.records.filter((x) => x.status === 'ok')).toHaveLength(2);

    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ variants: [{ name: 'kvm-rtl', base: 'kvm', options: { nic: 'rtl8139' } }] }));
    const refused = await virtnet(
      'run',
      '--plan',
      plan,
      '--env',
      'kvm-rtl',
      '--variants',
      bad,
      '--out',
      join(work, 'bad'),
      '--index',
      String(index),
    );
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(
      `--variants: invalid variants file ${bad}: variants[0].options.nic: "rtl8139" is not one of virtio, e1000`,
    );
    expect(existsSync(join(work, 'bad'))).toBe(false);
  });
});
