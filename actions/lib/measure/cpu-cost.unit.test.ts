// The CPU cost arithmetic on recorded file texts: the looks a measurement's window takes, the
// scope's seconds from cgroup usage and process ticks, per gigabyte delivered, the client's netperf
// and the machine's softirq time kept apart, and the cases where the scope cannot be known.

import { describe, expect, it } from 'vitest';
import {
  cgroupUsageFiles,
  cpuCgroupOf,
  cpuCostOf,
  type CpuLook,
  deliveredBytes,
  lookAtCpu,
  parseCgroupUsageNs,
  perGigabyte,
  type ProcessCpu,
  processNs,
  softirqInTaskTime,
} from './cpu-cost.ts';
import { ProcFormatError } from './interference.ts';

/** A /proc/PID/stat line with these utime, stime, cutime, cstime and start time (field 22). */
const stat = (pid: number, comm: string, utime: number, stime: number, cutime = 0, cstime = 0, start = 5000) =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 ${start} 1000 100 0`;
/** A /proc/stat text whose cpu line has these irq and softirq ticks. */
const procStat = (irq: number, softirq: number) =>
  `cpu  1000 0 500 9000 0 ${irq} ${softirq} 0 0 0\ncpu0 500 0 250 4500 0 0 0 0 0 0\ncpu1 500 0 250 4500 0 0 0 0 0 0\n`;

const OWN = 4242;
const files = (entries: Record<string, string>) => (file: string) => entries[file] ?? null;

describe('lookAtCpu', () => {
  it('reads a v1 cgroup, a process, the client and the machine', () => {
    const look = lookAtCpu(
      { cgroups: ['docker/abc'], pids: [77] },
      files({
        '/proc/stat': procStat(3, 40),
        [`/proc/${OWN}/stat`]: stat(OWN, 'node', 900, 100, 250, 50),
        '/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage': '1500000000\n',
        '/proc/77/stat': stat(77, 'qemu-system-x86', 300, 200),
      }),
      10,
      OWN,
    );
    expect(look).toEqual({
      atNs: 10,
      cgroupNs: new Map([['docker/abc', 1_500_000_000]]),
      pidCpu: new Map([[77, { startTicks: '5000', ticks: 500, threadNs: null }]]),
      clientTicks: 300,
      irqTicks: 3,
      softirqTicks: 40,
    });
  });

  it('reads a v2 cgroup from cpu.stat, and marks what it cannot read as null', () => {
    const look = lookAtCpu(
      { cgroups: ['/system.slice/docker-abc.scope', 'gone'], pids: [88] },
      files({
        '/proc/stat': procStat(0, 0),
        [`/proc/${OWN}/stat`]: stat(OWN, 'node', 1, 1),
        '/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n',
      }),
      0,
      OWN,
    );
    expect(look.cgroupNs).toEqual(
      new Map([
        ['/system.slice/docker-abc.scope', 2_500_000],
        ['gone', null],
      ]),
    );
    expect(look.pidCpu).toEqual(new Map([[88, null]]));
  });

  it('refuses a host whose /proc/stat it cannot read, and a garbled cgroup file, naming the file', () => {
    expect(() => lookAtCpu({ cgroups: [], pids: [] }, files({}), 0, OWN)).toThrow('/proc/stat: cannot be read');
    expect(() =>
      lookAtCpu(
        { cgroups: ['x'], pids: [] },
        files({
          '/proc/stat': procStat(0, 0),
          [`/proc/${OWN}/stat`]: stat(OWN, 'node', 1, 1),
          '/sys/fs/cgroup/cpuacct/x/cpuacct.usage': 'twelve',
        }),
        0,
        OWN,
      ),
    ).toThrow('/sys/fs/cgroup/cpuacct/x/cpuacct.usage: unreadable "twelve"');
  });
});

describe("a process's CPU time", () => {
  const proc = (ticks: number, threads: [string, number][] | null): ProcessCpu => ({
    startTicks: '5',
    ticks,
    threadNs: threads === null ? null : new Map(threads),
  });

  it("is its threads' run time in ns while every thread lives on, a thread born in the window counted whole", () => {
    const before = proc(100, [['77@5', 1_000_000_000]]);
    const after = proc(104, [
      ['77@5', 1_036_000_000],
      ['80@9000', 5_000_000],
    ]);
    expect(processNs(before, after)).toBe(41_000_000);
  });

  it('falls back to utime+stime ticks when a thread ended in the window, or threads were not readable', () => {
    const before = proc(100, [
      ['77@5', 1_000_000_000],
      ['78@6', 50_000_000],
    ]);
    expect(processNs(before, proc(107, [['77@5', 1_036_000_000]]))).toBe(70_000_000);
    expect(processNs(proc(100, null), proc(103, [['77@5', 1]]))).toBe(30_000_000);
  });

  it("is read from each thread's stat and schedstat", () => {
    const look = lookAtCpu(
      { cgroups: [], pids: [77] },
      files({
        '/proc/stat': procStat(0, 0),
        [`/proc/${OWN}/stat`]: stat(OWN, 'node', 1, 1),
        '/proc/77/stat': stat(77, 'netserver', 30, 10),
        '/proc/77/task/77/stat': stat(77, 'netserver', 30, 10),
        '/proc/77/task/77/schedstat': '401234567 9066345 404\n',
      }),
      0,
      OWN,
      (dir) => (dir === '/proc/77/task' ? ['77'] : null),
    );
    expect(look.pidCpu.get(77)).toEqual({ startTicks: '5000', ticks: 40, threadNs: new Map([['77@5000', 401234567]]) });
  });
});

describe('cgroup files and paths', () => {
  it('tries v1 cpuacct first, then v2, and refuses a path that climbs out of the hierarchy', () => {
    expect(cgroupUsageFiles('/docker/abc').map((f) => f.file)).toEqual([
      '/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage',
      '/sys/fs/cgroup/docker/abc/cpu.stat',
    ]);
    expect(() => cgroupUsageFiles('docker/../..')).toThrow(ProcFormatError);
    expect(() => parseCgroupUsageNs('user_usec 4\n', 'v2', 'cpu.stat')).toThrow('expected a "usage_usec N" line');
  });

  it("finds a process's cpuacct cgroup (v1) or its unified one (v2), and none at the root", () => {
    const hybrid = '9:name=systemd:/docker/abc\n2:cpu,cpuacct:/docker/abc\n1:memory:/docker/abc\n0::/docker/abc\n';
    expect(cpuCgroupOf(hybrid)).toBe('docker/abc');
    expect(cpuCgroupOf('0::/system.slice/docker-abc.scope\n')).toBe('system.slice/docker-abc.scope');
    expect(cpuCgroupOf('2:cpuacct:/\n1:cpu:/\n0::/\n')).toBeNull();
    expect(cpuCgroupOf('')).toBeNull();
  });
});

describe('softirqInTaskTime', () => {
  it("reads the kernel's accounting from its configuration", () => {
    expect(softirqInTaskTime('CONFIG_TICK_CPU_ACCOUNTING=y\n# CONFIG_IRQ_TIME_ACCOUNTING is not set\n')).toBe(true);
    expect(softirqInTaskTime('CONFIG_TICK_CPU_ACCOUNTING=y\nCONFIG_IRQ_TIME_ACCOUNTING=y\n')).toBe(false);
    expect(softirqInTaskTime('CONFIG_VIRT_CPU_ACCOUNTING_NATIVE=y\n')).toBe(false);
    expect(softirqInTaskTime('CONFIG_HZ=250\n')).toBeNull();
  });
});

describe('bytes delivered and per gigabyte', () => {
  it("is the receiver's throughput over the elapsed time (UDP: what arrived)", () => {
    expect(deliveredBytes({ throughputMbps: 94, elapsedSeconds: 10 })).toBe(117_500_000);
    expect(deliveredBytes({ throughputMbps: 0, elapsedSeconds: 10 })).toBe(0);
  });

  it('divides by 10^9 bytes, and has no value without bytes or seconds', () => {
    expect(perGigabyte(0.47, 117_500_000)).toBe(4);
    expect(perGigabyte(1, 0)).toBeNull();
    expect(perGigabyte(null, 1e9)).toBeNull();
  });
});

describe('cpuCostOf', () => {
  const look = (over: Partial<CpuLook>): CpuLook => ({
    atNs: 0,
    cgroupNs: new Map(),
    pidCpu: new Map(),
    clientTicks: 0,
    irqTicks: 0,
    softirqTicks: 0,
    ...over,
  });
  const scope = { cgroups: ['docker/abc'], pids: [77] };

  it('sums the cgroup (ns) and the process (ticks), and keeps client and softirq apart from it', () => {
    const before = look({
      cgroupNs: new Map([['docker/abc', 1_000_000_000]]),
      pidCpu: new Map([[77, { startTicks: '5', ticks: 100, threadNs: null }]]),
      clientTicks: 10,
      irqTicks: 1,
      softirqTicks: 200,
    });
    const after = look({
      atNs: 10_050_000_000,
      cgroupNs: new Map([['docker/abc', 1_250_000_000]]),
      pidCpu: new Map([[77, { startTicks: '5', ticks: 125, threadNs: null }]]),
      clientTicks: 45,
      irqTicks: 3,
      softirqTicks: 290,
    });
    expect(cpuCostOf(scope, before, after, 125_000_000, true)).toEqual({
      scope: { cgroups: ['docker/abc'], pids: [77] },
      wallSeconds: 10.05,
      deliveredBytes: 125_000_000,
      serverSeconds: 0.5,
      serverSecondsPerGigabyte: 4,
      unreadable: null,
      clientSeconds: 0.35,
      clientSecondsPerGigabyte: 2.8,
      hostSoftirqSeconds: 0.9,
      hostIrqSeconds: 0.02,
      softirqInTaskTime: true,
    });
  });

  it('has no server time when a process ended or its PID was reused, or a cgroup went unreadable, and says why', () => {
    const before = look({
      cgroupNs: new Map([['docker/abc', 5]]),
      pidCpu: new Map([[77, { startTicks: '5', ticks: 100, threadNs: null }]]),
    });
    const reused = look({
      cgroupNs: new Map([['docker/abc', 9]]),
      pidCpu: new Map([[77, { startTicks: '6', ticks: 1, threadNs: null }]]),
    });
    const cost = cpuCostOf(scope, before, reused, 1e9, null);
    expect(cost.serverSeconds).toBeNull();
    expect(cost.serverSecondsPerGigabyte).toBeNull();
    expect(cost.unreadable).toBe('PID 77: the process ended during the measurement');
    const lost = look({
      cgroupNs: new Map([['docker/abc', null]]),
      pidCpu: new Map([[77, { startTicks: '5', ticks: 101, threadNs: null }]]),
    });
    expect(cpuCostOf(scope, before, lost, 1e9, null).unreadable).toBe(
      'cgroup docker/abc: its CPU usage could not be read',
    );
    expect(cpuCostOf({ cgroups: [], pids: [] }, look({}), look({}), 1e9, null).unreadable).toBe(
      'the environment names no cgroup or process of its server side',
    );
  });

  it('never counts a counter that went backwards as negative time', () => {
    const before = look({ cgroupNs: new Map([['docker/abc', 9]]), clientTicks: 5, softirqTicks: 9 });
    const after = look({ cgroupNs: new Map([['docker/abc', 3]]), clientTicks: 1, softirqTicks: 2 });
    const cost = cpuCostOf({ cgroups: ['docker/abc'], pids: [] }, before, after, 1e9, true);
    expect([cost.serverSeconds, cost.clientSeconds, cost.hostSoftirqSeconds]).toEqual([0, 0, 0]);
  });
});
