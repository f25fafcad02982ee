// The trust check against a file another user owns: making one needs root (chown).

import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireService, rootMissing, skipNote } from '../testing/requirements.ts';
import { untrustedPathProblem } from './trusted-path.ts';

const rootMissingHere = requireService('root', rootMissing());

const work = mkdtempSync(join(tmpdir(), 'virtnet-trust-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(rootMissingHere !== null)(
  `untrustedPathProblem on a file another user owns${skipNote(rootMissingHere)}`,
  () => {
    it('refuses an entry another user owns', () => {
      const file = join(work, 'theirs');
      writeFileSync(file, 'x', { mode: 0o644 });
      chownSync(file, 65534, 65534);
      expect(untrustedPathProblem(file, 0)).toBe(`${file} is owned by uid 65534, not by uid 0 (us) or root`);
    });
  },
);
