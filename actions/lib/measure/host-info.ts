// Facts about a host for the manifest (the paper's Tables 2 and 3), read from /proc and a few
// commands. A command prefix reads them inside the client's namespace, where per-netns sysctls differ.

import { cpus, hostname, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { HostInfo } from './records.ts';
import { runCommand } from '../core/proc.ts';

export const SYSCTLS = [
  'net.core.rmem_max',
  'net.core.wmem_max',
  'net.core.rmem_default',
  'net.core.wmem_default',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.udp_mem',
  'net.ipv4.tcp_congestion_control',
  'net.ipv4.ip_forward',
  'net.core.default_qdisc',
];

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

export function distributionName(osRelease: string): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease);
  return m?.[1] ?? 'unknown';
}

export function cpuFlags(cpuinfo: string): string[] {
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  return ['vmx', 'svm'].filter((f) => flags.includes(f));
}

async function sysctls(prefix: string[]): Promise<Record<string, string>> {
  // One shell per host keeps this cheap; a missing sysctl reads as an empty value, not an error.
  const script =
    'for s in "$@"; do v=$(cat "/proc/sys/$(echo "$s" | tr . /)" 2>/dev/null | tr "\\t" " "); printf "%s=%s\\n" "$s" "$v"; done';
  const r = await runCommand([...prefix, 'sh', '-c', script, 'sh', ...SYSCTLS], { timeoutMs: 10_000 });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return out;
}

export async function netperfVersion(): Promise<string> {
  const r = await runCommand(['netperf', '-V'], { timeoutMs: 5000 }).catch(() => null);
  return r?.stdout.trim().replace(/^Netperf version\s*/, '') || 'not installed';
}

/** The local machine's facts; `prefix` runs the sysctl read elsewhere (e.g. ip netns exec NS). */
export async function collectHostInfo(role: 'client' | 'server', prefix: string[] = []): Promise<HostInfo> {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  return {
    role,
    hostname: hostname(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: readOr('/proc/sys/kernel/osrelease', 'unknown').trim(),
    distribution: distributionName(readOr('/etc/os-release', '')),
    netperfVersion: await netperfVersion(),
    sysctls: await sysctls(prefix),
    virtualizationFlags: cpuFlags(cpuinfo),
  };
}

export async function gitInfo(
  cwd: string,
): Promise<{ commit: string | null; dirty: boolean | null; branch: string | null; subject: string | null }> {
  const git = async (...args: string[]) => {
    const r = await runCommand(['git', ...args], { timeoutMs: 10_000, cwd }).catch(() => null);
    return r && r.exitCode === 0 ? r.stdout.trim() : null;
  };
  const commit = await git('rev-parse', 'HEAD');
  const status = await git('status', '--porcelain', '--untracked-files=no');
  return {
    commit,
    dirty: status === null ? null : status.length > 0,
    branch: await git('rev-parse', '--abbrev-ref', 'HEAD'),
    subject: commit ? await git('log', '-1', '--format=%s') : null,
  };
}
