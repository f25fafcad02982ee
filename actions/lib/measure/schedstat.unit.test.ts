// The run-delay arithmetic on real /proc texts read on this project's 2-core VM: schedstat lines
// of a process's threads, stat lines naming processes, and the tally of waits over a measurement.

import { describe, expect, it } from 'vitest';
import {
  lateReleasePercent,
  parseSchedstat,
  type PathThread,
  processName,
  tallyWait,
  waitPercentByProcess,
} from './schedstat.ts';
import { pathReasons, ProcFormatError } from './interference.ts';

// /proc/1/task/TID/schedstat of three threads, one second apart for the first.
const THREAD_1 = '191535222 9066345 404\n';
const THREAD_1_LATER = '191535222 9066345 404\n';
const THREAD_2 = '1871205907 529011506 1405\n';
const NETSERVER_STAT =
  '5703 (netserver) S 1 3664 3664 0 -1 4194304 121 0 0 0 0 0 0 0 20 0 1 0 23539 3723264 570 18446744073709551615 93932736540672 93932736659741 140730151898528 0 0 0 0 0 0 1 0 0 17 1 0 0 0 0 0 93932736719920 93932736739580 93933799575552 140730151904553 140730151904594 140730151904594 140730151907301 0\n';

describe('parseSchedstat', () => {
  it('reads time on a CPU, time waiting for one (ns) and timeslices', () => {
    expect(parseSchedstat(THREAD_1)).toEqual({ runNs: 191535222, waitNs: 9066345, timeslices: 404 });
    expect(parseSchedstat(THREAD_2).waitNs).toBe(529011506);
    expect(parseSchedstat('51357 0 2\n')).toEqual({ runNs: 51357, waitNs: 0, timeslices: 2 });
  });

  it('refuses anything else, naming the file and the text', () => {
    expect(() => parseSchedstat('', '/proc/7/task/7/schedstat')).toThrow(ProcFormatError);
    expect(() => parseSchedstat('1 2\n', '/proc/7/task/7/schedstat')).toThrow(
      /\/proc\/7\/task\/7\/schedstat: unreadable "1 2\\n": expected three whole numbers/,
    );
    expect(() => parseSchedstat('1 -2 3\n')).toThrow(/unreadable/);
    expect(() => parseSchedstat('1 2.5 3\n')).toThrow(/unreadable/);
  });
});

describe('processName', () => {
  it('names a process by its comm, the delay line and QEMU without their build or target', () => {
    expect(processName(NETSERVER_STAT)).toBe('netserver');
    expect(processName('1 (process_api) S 0 0 0 0 -1\n')).toBe('process_api');
    expect(processName('812 (delay-line-227f) R 1 811\n')).toBe('delay-line');
    expect(processName('900 (qemu-system-x86) S 1 900\n')).toBe('qemu');
    // A comm may hold parentheses and spaces: the last ")" ends it.
    expect(processName('77 (a (b) c) S 1\n')).toBe('a (b) c');
    expect(processName('garbage')).toBeNull();
  });
});

const thread = (process: string, tid: number, waitNs: number, startTicks = '23539'): PathThread => ({
  process,
  pid: tid,
  tid,
  startTicks,
  waitNs,
});

describe('tallyWait and waitPercentByProcess', () => {
  it('counts a thread seen at the baseline from there, one born later from zero', () => {
    const base = tallyWait(new Map(), [thread('delay-line', 10, parseSchedstat(THREAD_1).waitNs)], true);
    // 2 s later: the delay line waited 0.5 s more; netperf (born after the baseline) waited 0.1 s.
    const later = tallyWait(
      base,
      [thread('delay-line', 10, 9066345 + 500_000_000), thread('netperf', 20, 100_000_000)],
      false,
    );
    expect(waitPercentByProcess(later, 2e9)).toEqual({ 'delay-line': 25, netperf: 5 });
  });

  it("tallies a thread that exec'd under the program it runs now, its earlier wait with it", () => {
    // Seen at the baseline as taskset (about to exec the loop it pins), later as sh.
    let tally = tallyWait(new Map(), [thread('taskset', 40, 1_000_000)], true);
    tally = tallyWait(tally, [thread('sh', 40, 301_000_000)], false);
    expect(waitPercentByProcess(tally, 1e9)).toEqual({ sh: 30 });
  });

  it('keeps the wait of a thread that exited before the last look', () => {
    let tally = tallyWait(new Map(), [], true);
    tally = tallyWait(tally, [thread('netserver', 30, 40_000_000)], false);
    tally = tallyWait(tally, [], false);
    expect(waitPercentByProcess(tally, 1e9)).toEqual({ netserver: 4 });
  });

  it('sums the threads of a process name, and counts a reused TID as a new thread', () => {
    let tally = tallyWait(new Map(), [thread('qemu', 40, 1e9), thread('qemu', 41, 2e9)], true);
    tally = tallyWait(
      tally,
      [thread('qemu', 40, 1.2e9), thread('qemu', 41, 2.3e9), thread('qemu', 40, 0.1e9, '99999')],
      false,
    );
    expect(waitPercentByProcess(tally, 1e9)).toEqual({ qemu: 60 });
  });

  it('finds no wait where a thread did not wait (the same schedstat twice)', () => {
    const tally = tallyWait(
      tallyWait(new Map(), [thread('netserver', 5703, parseSchedstat(THREAD_1).waitNs)], true),
      [thread('netserver', 5703, parseSchedstat(THREAD_1_LATER).waitNs)],
      false,
    );
    expect(waitPercentByProcess(tally, 1e9)).toEqual({ netserver: 0 });
  });
});

describe('lateReleasePercent and pathReasons', () => {
  it('takes the share of late releases between two reads of the counters', () => {
    expect(lateReleasePercent({ released: 1000, late: 10 }, { released: 21000, late: 410 })).toBe(2);
    expect(lateReleasePercent({ released: 5, late: 0 }, { released: 5, late: 0 })).toBeNull();
  });

  it('names each process that waited too long and a late delay line while others were busy; null thresholds flag nothing', () => {
    const path = { waitPercent: { 'delay-line': 31.5, netperf: 2, netserver: 12 }, lateReleasePercent: 7.5 };
    const thresholds = { maxWaitPercent: 10, maxLateReleasePercent: 5, pathOthersBusyPercent: 10 };
    expect(pathReasons(path, thresholds, 51.3)).toEqual([
      'delay-line waited for a CPU 31.5% of the time > 10% with others busy 51.3% > 10%',
      'netserver waited for a CPU 12% of the time > 10% with others busy 51.3% > 10%',
      'delay line released 7.5% of packets >= 100 us late > 5% with others busy 51.3% > 10%',
    ]);
    expect(pathReasons(path, { ...thresholds, maxWaitPercent: null, maxLateReleasePercent: null }, 51.3)).toEqual([]);
  });

  it("does not call the path's contention with itself a disturbance (UDP -r 50 on a quiet machine)", () => {
    // Recorded: docker UDP -r 50, others busy 12.9%, 15.3%; a disturbed one at 53%.
    const selfBound = { waitPercent: { 'delay-line': 47.5, netperf: 5.3, netserver: 18.1 }, lateReleasePercent: 34.84 };
    const thresholds = { maxWaitPercent: 10, maxLateReleasePercent: 5, pathOthersBusyPercent: 15 };
    expect(pathReasons(selfBound, thresholds, 12.9)).toEqual([]);
    expect(pathReasons(selfBound, thresholds, 53)).toHaveLength(3);
  });
});
