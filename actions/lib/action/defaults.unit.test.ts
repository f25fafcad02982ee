// Each action's action.yml against its input parser (inputs.ts): the same inputs, the same
// required ones, and every default written in action.yml is what the parser falls back to when the
// input is empty. The runner fills in action.yml's default, tests and scripts call the parser
// without it: both must mean the same.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  InputError,
  type InputReader,
  parseBuildOsvImageInputs,
  parseDiffResultsInputs,
  parseRenderReportInputs,
  parseRunSweepInputs,
  parseStartEnvironmentInputs,
  readerFrom,
} from './inputs.ts';
import { PINNED_OSV } from '../../../env/osv/build-plan.ts';
import { environmentBasesOfCheckout } from '../../../env/variants.ts';

const ACTIONS = join(import.meta.dirname, '..', '..');
const runner = { workspace: '/ws', temp: '/rt' };
/** This checkout's environments, whatever directory is asked about (the workspace is made up). */
const envs = () => environmentBasesOfCheckout(join(import.meta.dirname, '..', '..', '..'));

/** Each action's parser, and inputs that make it succeed (the required ones). */
const PARSERS: Record<string, { parse: (read: InputReader) => unknown; base: Record<string, string> }> = {
  'start-environment': {
    parse: (read) => parseStartEnvironmentInputs(read, runner, envs),
    base: { environment: 'native', 'server-address': '198.18.0.1' },
  },
  'run-sweep': {
    parse: (read) => parseRunSweepInputs(read, runner, envs),
    base: { environment: 'docker', 'server-address': '198.18.0.1', plan: 'paper' },
  },
  'render-report': { parse: (read) => parseRenderReportInputs(read, runner), base: { runs: 'downloaded' } },
  'diff-results': {
    parse: (read) => parseDiffResultsInputs(read, runner),
    base: { baseline: 'previous', current: 'HEAD' },
  },
  'build-osv-image': { parse: (read) => parseBuildOsvImageInputs(read, runner, PINNED_OSV.commit), base: {} },
};

interface InputSpec {
  required?: boolean;
  default?: string;
}

function inputsOf(action: string): Record<string, InputSpec> {
  const yml = parseYaml(readFileSync(join(ACTIONS, action, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, InputSpec>;
  };
  return yml.inputs ?? {};
}

const actions = readdirSync(ACTIONS, { withFileTypes: true })
  .filter((e) => e.isDirectory() && readdirSync(join(ACTIONS, e.name)).includes('action.yml'))
  .map((e) => e.name)
  .sort();

describe('action.yml inputs agree with the parsers', () => {
  it('every action has a parser here', () => {
    expect(actions).toEqual(Object.keys(PARSERS).sort());
  });

  describe.each(actions)('%s', (action) => {
    const { parse, base } = PARSERS[action]!;
    const inputs = inputsOf(action);

    it('the parser reads exactly the inputs action.yml declares', () => {
      const read = new Set<string>();
      const reader = readerFrom(base);
      parse((name) => {
        read.add(name);
        return reader(name);
      });
      expect([...read].sort()).toEqual(Object.keys(inputs).sort());
    });

    it('required in action.yml is required by the parser, and nothing else is', () => {
      for (const [name, spec] of Object.entries(inputs)) {
        const without = { ...base, [name]: '' };
        if (spec.required) {
          expect(() => parse(readerFrom(without)), name).toThrow(InputError);
          expect(() => parse(readerFrom(without)), name).toThrow(new RegExp(`input ${name} is required`));
        } else {
          expect(() => parse(readerFrom(without)), name).not.toThrow();
        }
      }
    });

    // A default such as ${{ github.token }} is the runner's to evaluate: the parser cannot know it.
    const expression = (spec: InputSpec) =>
      typeof spec.default === 'string' && /^\$\{\{.*\}\}$/.test(spec.default.trim());

    it.each(Object.entries(inputs).filter(([, spec]) => spec.default !== undefined && !expression(spec)))(
      "default of %s is the parser's fallback",
      (name, spec) => {
        expect(typeof spec.default, `${name}: write the default as a string`).toBe('string');
        expect(parse(readerFrom({ ...base, [name]: spec.default }))).toEqual(
          parse(readerFrom({ ...base, [name]: '' })),
        );
      },
    );
  });
});
