// A DHCP server on the guest bridge, as libvirt's default network runs dnsmasq on virbr0. OSv
// configures its NIC by DHCP and waits for a lease before starting its application; busybox's
// udhcpd (from busybox-static, already needed for the Linux guest) hands out exactly one address:
// the guest's, to the guest's MAC.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, stateDir } from '../../actions/lib/core/proc.ts';
import type { GuestNetworkPlan } from './network.ts';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';

export function udhcpdConfig(plan: GuestNetworkPlan, leaseFile: string): string {
  const netmask = prefixToNetmask(plan.prefixLength);
  return [
    `interface ${plan.bridge}`,
    `start ${plan.guestAddress}`,
    `end ${plan.guestAddress}`,
    'max_leases 1',
    `lease_file ${leaseFile}`,
    // Write the lease file only on exit: nothing of ours depends on it.
    'auto_time 0',
    `option subnet ${netmask}`,
    `option router ${plan.bridgeAddress}`,
    'option lease 86400',
    `static_lease ${plan.mac} ${plan.guestAddress}`,
    '',
  ].join('\n');
}

export function prefixToNetmask(prefixLength: number): string {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32)
    throw new Error(`prefix length ${prefixLength} is out of range (0..32)`);
  const bits = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

function dhcpFiles(plan: GuestNetworkPlan): { conf: string; leases: string } {
  const dir = join(stateDir(), 'dhcp');
  return { conf: join(dir, `${plan.bridge}.conf`), leases: join(dir, `${plan.bridge}.leases`) };
}

export function removeDhcpFiles(plan: GuestNetworkPlan): void {
  const f = dhcpFiles(plan);
  rmSync(f.conf, { force: true });
  rmSync(f.leases, { force: true });
}

/** Starts udhcpd in the foreground, held by PID under the label `<owner>:udhcpd`. */
export function startDhcpServer(plan: GuestNetworkPlan, owner: string): Daemon {
  const { conf, leases } = dhcpFiles(plan);
  mkdirSync(join(stateDir(), 'dhcp'), { recursive: true });
  writeFileSafely(conf, udhcpdConfig(plan, leases));
  writeFileSafely(leases, '');
  return new Daemon(['busybox', 'udhcpd', '-f', conf], { label: `${owner}:udhcpd`, testbedIndex: plan.index });
}
