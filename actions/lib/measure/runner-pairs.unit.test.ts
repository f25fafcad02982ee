// The list of runner pairs: the committed file reads, and a bad file is refused naming the file,
// the field and the value.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/input.ts';
import { pairLabels, pairMatrix, pairNameFrom, parseRunnerPairs, RunnerPairsError } from './runner-pairs.ts';

const FILE = '.github/runner-pairs.json';

function refusal(text: string): string {
  try {
    parseRunnerPairs(text, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerPairsError);
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe('runner pairs', () => {
  it('the committed list reads, and becomes one matrix entry per pair', () => {
    const pairs = parseRunnerPairs(readFileSync(join(import.meta.dirname, '..', '..', '..', FILE), 'utf8'), FILE);
    expect(pairs.length).toBeGreaterThanOrEqual(1);
    expect(pairMatrix(pairs)).toEqual(pairs.map((p) => ({ name: p.name, 'server-address': p.serverAddress })));
  });

  it('two pairs, each with its own server address', () => {
    const pairs = parseRunnerPairs(
      JSON.stringify({
        pairs: [
          { name: 'n3530', serverAddress: '198.18.0.1' },
          { name: 'epyc', serverAddress: '198.18.0.5', description: 'the modern one' },
        ],
      }),
      FILE,
    );
    expect(pairMatrix(pairs)).toEqual([
      { name: 'n3530', 'server-address': '198.18.0.1' },
      { name: 'epyc', 'server-address': '198.18.0.5' },
    ]);
    expect(pairLabels('epyc')).toEqual({
      server: ['self-hosted', 'virtnet-server-epyc'],
      client: ['self-hosted', 'virtnet-client-epyc'],
    });
  });

  it.each([
    [
      'a bad name',
      { pairs: [{ name: 'my pair', serverAddress: '198.18.0.1' }] },
      `${FILE}: pairs[0].name: "my pair" does not fit: expected a pair name`,
    ],
    [
      'a host name for an address',
      { pairs: [{ name: 'a', serverAddress: 'server.lan' }] },
      `${FILE}: pairs[0].serverAddress: "server.lan" does not fit: expected a dotted IPv4 address`,
    ],
    [
      'a name listed twice',
      {
        pairs: [
          { name: 'a', serverAddress: '198.18.0.1' },
          { name: 'a', serverAddress: '198.18.0.5' },
        ],
      },
      `${FILE}: pairs[1].name: "a" is listed twice`,
    ],
    [
      'a name that differs from another only in case',
      {
        pairs: [
          { name: 'N3530', serverAddress: '198.18.0.1' },
          { name: 'n3530', serverAddress: '198.18.0.5' },
        ],
      },
      `${FILE}: pairs[1].name: "n3530" differs from "N3530" only in case`,
    ],
    [
      'an unknown field',
      { pairs: [{ name: 'a', serverAddress: '198.18.0.1', labels: ['x'] }] },
      `${FILE}: pairs[0].labels: unknown field`,
    ],
    ['no pairs', { pairs: [] }, `${FILE}: pairs: expected a non-empty list`],
  ])('refuses %s, naming the file, the field and the value', (_, doc, start) => {
    expect(refusal(JSON.stringify(doc))).toMatch(new RegExp(`^${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('refuses a file that is not JSON, naming it', () => {
    expect(refusal('{"pairs": [')).toMatch(/^\.github\/runner-pairs\.json is not valid JSON: /);
  });

  it('a pair name on its own (virtnet run --pair, the runner-pair input) is an InputError naming the field and the value', () => {
    expect(pairNameFrom('pair', 'epyc-2')).toBe('epyc-2');
    expect(() => pairNameFrom('pair', '-x')).toThrow(InputError);
    expect(() => pairNameFrom('pair', 'x'.repeat(41))).toThrow(/^pair: expected a pair name: .*got "x{41}"$/);
  });
});
