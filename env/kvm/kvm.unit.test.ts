// The Linux guest's launch as data: what QEMU boots with, per machine and accelerator.

import { describe, expect, it } from 'vitest';
import { guestNetworkPlan } from '../qemu/network.ts';
import { linuxGuestLaunch } from './kvm.ts';

const image = { kernel: '/c/vmlinux', initrd: '/c/initrd.gz' };
const plan = guestNetworkPlan(9, { control: 12865, data: 12866 });

function append(launch: ReturnType<typeof linuxGuestLaunch>, accelerator: 'kvm' | 'tcg'): string {
  const boot = launch.boot(plan, accelerator);
  if (boot.kind !== 'kernel') throw new Error('expected a kernel boot');
  return boot.append;
}

describe('the Linux guest launch', () => {
  it("gives a microvm guest under TCG the host's TSC frequency, which it cannot calibrate without HPET or PM timer", () => {
    const microvm = linuxGuestLaunch(image, { port: 12865, machine: 'microvm', hostTscKhz: 2_600_000 });
    expect(microvm.machine).toBe('microvm');
    expect(append(microvm, 'tcg')).toMatch(/ virtnet\.gw=198\.19\.9\.1 tsc_early_khz=2600000$/);
    // Under KVM the guest has kvmclock; on q35 it has HPET and the PM timer; unknown: not guessed.
    expect(append(microvm, 'kvm')).not.toContain('tsc_early_khz');
    expect(append(linuxGuestLaunch(image, { port: 12865, hostTscKhz: 2_600_000 }), 'tcg')).not.toContain('tsc_early');
    expect(append(linuxGuestLaunch(image, { port: 12865, machine: 'microvm', hostTscKhz: null }), 'tcg')).not.toContain(
      'tsc_early',
    );
    expect(linuxGuestLaunch(image, { port: 12865 }).machine).toBe('q35');
  });
});
