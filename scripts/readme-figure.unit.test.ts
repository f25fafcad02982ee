// The README's figure is the committed run's chart as the project's renderer draws it, not a copy that can drift.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { README_FIGURE, README_RUN, readmeFigure } from './readme-figure.ts';

const REPO_DIR = new URL('..', import.meta.url).pathname;

describe('the README figure', () => {
  it(
    'is the output of scripts/readme-figure.ts for the run it names, and the README shows it',
    { timeout: 60_000 },
    async () => {
      const committed = readFileSync(join(REPO_DIR, README_FIGURE), 'utf8');
      expect(committed, `regenerate with: node scripts/readme-figure.ts ${README_RUN}`).toBe(
        await readmeFigure(join(REPO_DIR, README_RUN)),
      );
      expect(committed).toContain('Fig. 4a');
      expect(readFileSync(join(REPO_DIR, 'README.md'), 'utf8')).toContain(`](${README_FIGURE})`);
    },
  );
});
