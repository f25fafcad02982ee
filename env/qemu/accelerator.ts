// Which accelerator QEMU should use. /dev/kvm alone proves nothing: on machines whose KVM is PVM
// (a paravirtualised KVM without hardware virtualisation), QEMU opens /dev/kvm happily and then a
// stock guest dies with "KVM internal error ... emulation failure". Only the CPU's own vmx (Intel
// VT-x) or svm (AMD-V) flag together with /dev/kvm means a stock guest really runs under KVM.

import { acceleratorRequest, type AcceleratorRequest } from '../../actions/lib/measure/environment.ts';

export type { AcceleratorRequest };
export type Accelerator = 'kvm' | 'tcg';

export interface AcceleratorChoice {
  accelerator: Accelerator;
  /** Why, in words for the manifest and the log. */
  reason: string;
}

/** The `accel` setting (auto when unset). */
export function parseAcceleratorRequest(value: string | undefined): AcceleratorRequest {
  return acceleratorRequest('accelerator', value ?? 'auto');
}

/** The hardware virtualisation flags named on the "flags" lines of /proc/cpuinfo. */
export function hardwareVirtualizationFlags(cpuinfo: string): string[] {
  const found = new Set<string>();
  for (const line of cpuinfo.split('\n')) {
    const m = /^flags\s*:(.*)$/.exec(line);
    if (!m) continue;
    for (const flag of m[1]!.trim().split(/\s+/)) if (flag === 'vmx' || flag === 'svm') found.add(flag);
  }
  return [...found].sort();
}

export function chooseAccelerator(
  request: AcceleratorRequest,
  host: { cpuinfo: string; kvmDevice: boolean },
): AcceleratorChoice {
  const flags = hardwareVirtualizationFlags(host.cpuinfo);
  const hardware = flags.length > 0;
  const what = `${hardware ? `CPU flag ${flags.join('/')}` : 'no vmx/svm CPU flag'}, ${host.kvmDevice ? '/dev/kvm present' : 'no /dev/kvm'}`;
  if (request === 'tcg') return { accelerator: 'tcg', reason: `TCG requested (${what})` };
  if (request === 'kvm') {
    if (!host.kvmDevice)
      throw new Error(
        `accelerator kvm requested but this machine has no /dev/kvm (${what}); ask for tcg or auto instead`,
      );
    return { accelerator: 'kvm', reason: `KVM requested (${what})` };
  }
  if (hardware && host.kvmDevice) return { accelerator: 'kvm', reason: `auto: ${what}` };
  return { accelerator: 'tcg', reason: `auto: ${what}, so TCG software emulation` };
}

/**
 * The host's TSC frequency in kHz, which is also a TCG guest's (QEMU hands the guest the host's own
 * rdtsc), or null where this host cannot say. Where no cpufreq driver changes the core clock (a VM,
 * as CI runners are) and the TSC is constant, the kernel's "cpu MHz" is the TSC's; with cpufreq it is
 * the current core clock, so null.
 */
export function hostTscKhz(cpuinfo: string, hasCpufreq: boolean): number | null {
  if (hasCpufreq) return null;
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
  if (!flags.includes('constant_tsc')) return null;
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)\s*$/m.exec(cpuinfo)?.[1]);
  return Number.isFinite(mhz) && mhz >= 100 && mhz <= 10_000 ? Math.round(mhz * 1000) : null;
}
