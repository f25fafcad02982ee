// The delay line's pure parts: its delay syntax, its iptables rules and its stats line.

import { describe, expect, it } from 'vitest';
import { delayLineRules, formatDelay, parseDelay, parseDelayLineStats } from './delay-line.ts';

describe('parseDelay', () => {
  it.each([
    ['0.2ms', 200],
    ['200us', 200],
    ['200µs', 200],
    ['0.15ms', 150],
    [' 1 ms ', 1000],
    ['100ms', 100_000],
    ['off', 0],
    ['none', 0],
    ['0', 0],
    ['0us', 0],
  ])('%s -> %i us', (text, us) => expect(parseDelay(text)).toBe(us));

  it.each([
    ['200', /expected a one-way delay such as 0\.2ms or 200us, or off; got "200"/],
    ['0.2s', /expected a one-way delay/],
    ['-1ms', /expected a one-way delay/],
    ['0.0001ms', /"0\.0001ms" is not a whole number of microseconds/],
    ['101ms', /"101ms" is out of range: at most 100 ms one way/],
  ])('refuses %s, naming the option and the value', (text, message) =>
    expect(() => parseDelay(text, '--delay')).toThrow(message),
  );

  it('formats a delay for people', () => {
    expect(formatDelay(150)).toBe('150 us one way (0.15 ms)');
    expect(formatDelay(0)).toBe('none');
  });
});

describe('delayLineRules', () => {
  it('queues both directions of the client end, without --queue-bypass (no program: packets drop, never pass undelayed)', () => {
    const rules = delayLineRules('vnet9c');
    expect(rules).toEqual([
      ['-t', 'mangle', 'POSTROUTING', '-o', 'vnet9c', '-j', 'NFQUEUE', '--queue-num', '1'],
      ['-t', 'mangle', 'PREROUTING', '-i', 'vnet9c', '-j', 'NFQUEUE', '--queue-num', '1'],
    ]);
    expect(rules.flat()).not.toContain('--queue-bypass');
  });

  it("reads the program's last stats line", () => {
    const log =
      'ready queue=1 delay_us=150 cpu=-1 idle_ms=50 pid=7\nstats packets=1 released=1 held=0 late_p50_us=0 late_p90_us=1 late_p99_us=2 late_max_us=3 max_depth=1 netlink_overruns=0 ring_overflows=0\nstats packets=10 released=9 held=1 late_p50_us=1 late_p90_us=4 late_p99_us=30 late_max_us=900 max_depth=5 netlink_overruns=2 ring_overflows=0 late_ge_100us=3 late_ge_1000us=0\n';
    expect(parseDelayLineStats(log)).toEqual({
      packets: 10,
      released: 9,
      held: 1,
      lateP50Us: 1,
      lateP90Us: 4,
      lateP99Us: 30,
      lateMaxUs: 900,
      maxDepth: 5,
      netlinkOverruns: 2,
      lateAtLeast100Us: 3,
      lateAtLeast1000Us: 0,
    });
    expect(parseDelayLineStats('ready\n')).toBeNull();
  });
});
