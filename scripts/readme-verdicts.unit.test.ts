// The README's verdict table is the committed run's, not a copy that can drift: it sits between
// markers naming the run, and must equal what scripts/readme-verdicts.ts makes from that run.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyNumber, readmeVerdictTable } from './readme-verdicts.ts';
import { REPO_DIR } from './cli/common.ts';

const MARKER = /<!-- verdicts: (reports\/runs\/[A-Za-z0-9._-]+) -->\n([\s\S]*?)\n<!-- \/verdicts -->/;

describe('the README verdict table', () => {
  it('is the output of scripts/readme-verdicts.ts for the committed run its marker names', () => {
    const readme = readFileSync(join(REPO_DIR, 'README.md'), 'utf8');
    const m = MARKER.exec(readme);
    expect(m, 'README.md has no <!-- verdicts: reports/runs/ID --> ... <!-- /verdicts --> block').not.toBeNull();
    expect(m![2]).toBe(readmeVerdictTable(join(REPO_DIR, m![1]!)));
  });

  it('takes the first measured figure of the evidence, without the run-wide conditions', () => {
    expect(keyNumber("Not measured in this run: osv. kvm ran under TCG (QEMU's software emulation), not KVM: the claim is about KVM, so it is not judged. kvm - docker: mean -2.84 x 10^6 bits/s. Further detail.")).toBe('kvm - docker: mean -2.84 x 10^6 bits/s.');
    expect(keyNumber("kvm and osv ran under TCG (QEMU's software emulation), not KVM: the claims about them are not judged. docker vs native: +1.2%.")).toBe('docker vs native: +1.2%.');
    expect(keyNumber('x'.repeat(300), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
