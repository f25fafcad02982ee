// The run page's verdict strip: counts, the claims the run could judge with one line each, refuted first.

import { describe, expect, it } from 'vitest';
import type { ClaimResult } from '../analyse/claims/judge.ts';
import { judgedHere, oneLineFinding, verdictStripHtml } from './site.ts';

function claim(id: string, verdict: ClaimResult['verdict'], extra: Partial<ClaimResult> = {}): ClaimResult {
  return {
    id, text: `claim ${id}`, section: 'III', kind: 'difference' as ClaimResult['kind'], verdict, qualifier: null,
    evidence: `native - docker (from-100, 3 points): mean 0.45 x 10^6 bits/s; the paper: at least 1.00. Judged under: x.`,
    judged: '', conditions: '', missing: [], note: null, contradicts: [], parts: [], ...extra,
  };
}

describe('verdict strip', () => {
  it('keeps the evidence\'s first measured part, without the paper\'s side, and cuts a long one', () => {
    expect(oneLineFinding('a - b: mean 1; the paper: 2 (fails). Judged under: y.')).toBe('a - b: mean 1');
    expect(oneLineFinding('only a finding. Judged under: y.')).toBe('only a finding');
    const long = oneLineFinding(`${'x'.repeat(500)}; the paper`);
    expect(long).toHaveLength(200);
    expect(long.endsWith('\u2026')).toBe(true);
  });

  it('judges here only a claim with every environment measured and none under TCG', () => {
    expect(judgedHere(claim('a', 'refuted'))).toBe(true);
    expect(judgedHere(claim('b', 'inconclusive', { qualifier: 'TCG, not KVM' }))).toBe(false);
    expect(judgedHere(claim('c', 'inconclusive', { missing: ['kvm'] }))).toBe(false);
  });

  it('counts every verdict, lists the judged claims refuted first with their finding, and says how many it could not judge', () => {
    const html = verdictStripHtml([claim('s', 'supported'), claim('t', 'inconclusive', { qualifier: 'TCG, not KVM' }), claim('r', 'refuted'), claim('u', 'inconclusive', { missing: ['osv'] })]).toString();
    expect(html).toContain('<span class="count v-supported">1 supported</span>');
    expect(html).toContain('<span class="count v-refuted">1 refuted</span>');
    expect(html).toContain('<span class="count v-inconclusive">2 inconclusive</span>');
    expect(html).toContain('of 4 claims');
    const items = [...html.matchAll(/<li class="v-(\w+)"><a class="mark" href="#claim-(\w+)">/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(items).toEqual(['refuted:r', 'supported:s']);
    expect(html).toContain('<span class="finding">native - docker (from-100, 3 points): mean 0.45 x 10^6 bits/s</span>');
    expect(html).toContain('2 claims this run could not judge');
  });

  it('lists at most six claims and says how many more there are; with none judged it says why', () => {
    const many = Array.from({ length: 9 }, (_, i) => claim(`c${i}`, 'supported'));
    const html = verdictStripHtml(many).toString();
    expect(html.match(/<li /g)).toHaveLength(6);
    expect(html).toContain('3 more claims judged here');
    const none = verdictStripHtml([claim('t', 'inconclusive', { qualifier: 'TCG, not KVM' })]).toString();
    expect(none).toContain('No claim could be judged on this run');
    expect(none).not.toContain('<li');
  });
});
