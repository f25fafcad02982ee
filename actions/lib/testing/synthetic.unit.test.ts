import { describe, expect, it } from 'vitest';
import { validateManifest, validateRecord } from '../measure/records.ts';
import { loadPlan } from '../plan/plan-file.ts';
import { syntheticRun } from './synthetic.ts';

const { plan } = loadPlan('paper', new URL('../../../env/plans', import.meta.url).pathname);

describe('syntheticRun', () => {
  it('is seeded: the same options give the same run, another seed another one', () => {
    const a = syntheticRun({ plan, environments: ['native', 'osv'], replicates: 2, seed: 9 });
    expect(syntheticRun({ plan, environments: ['native', 'osv'], replicates: 2, seed: 9 })).toEqual(a);
    expect(syntheticRun({ plan, environments: ['native', 'osv'], replicates: 2, seed: 10 }).records).not.toEqual(
      a.records,
    );
  });
  it('writes a valid run of the whole plan, labelled synthetic', () => {
    const run = syntheticRun({
      plan,
      environments: ['native', 'docker', 'kvm', 'osv'],
      replicates: 10,
      seed: 1,
      accelerator: 'tcg',
    });
    expect(run.records).toHaveLength(58 * 10 * 4);
    run.records.forEach((r, i) => validateRecord(JSON.parse(JSON.stringify(r)), `record ${i}`));
    const m = validateManifest(JSON.parse(JSON.stringify(run.manifest)));
    expect(m.git.subject).toMatch(/synthetic/);
    expect(m.environmentDescriptions.kvm!.accelerator).toBe('tcg');
    expect(m.environmentDescriptions.native!.accelerator).toBe('none');
  });
});
