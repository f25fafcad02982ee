import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  describeValue,
  fieldPath,
  formatProblems,
  formatVersionField,
  parseJson,
  parseOrThrow,
  strict,
  text,
  versioned,
  whole,
  type VersionedFormat,
} from './schema.ts';

const fail = (message: string) => new Error(message);

describe('messages name the field path and the value', () => {
  it('writes paths the way the documents are read', () => {
    expect(fieldPath(['sweeps', 2, 'step'])).toBe('sweeps[2].step');
    expect(fieldPath(['hosts', 'server', 'sysctls', 'net.core.wmem_max'])).toBe(
      'hosts.server.sysctls["net.core.wmem_max"]',
    );
    expect(fieldPath([])).toBe('');
  });

  it('shows values escaped and short, non-finite numbers as such', () => {
    expect(describeValue('3')).toBe('"3"');
    expect(describeValue(undefined)).toBe('nothing');
    expect(describeValue(Infinity)).toBe('Infinity (a number too large to hold)');
    expect(describeValue('a\u001b[31m\nb')).toBe('"a\\u001b[31m\\nb"');
    const long = describeValue(`${'x'.repeat(100)}SECRET`);
    expect(long).not.toContain('SECRET');
    expect(long).toMatch(/\(106 characters\)$/);
    expect(describeValue(Array.from({ length: 1000 }, () => 1))).toBe('a list of 1000 entries');
  });

  it('lists every problem at once, one line each, and caps a flood of them', () => {
    const schema = strict({ a: whole(1, 5), b: text(), c: strict({ d: whole(0, 1) }) });
    expect(() => parseOrThrow(schema, { a: 9, b: 7, c: { d: 'x', e: 1 } }, 'invalid thing f.json', fail)).toThrow(
      'invalid thing f.json:\n  - a: 9 is out of range: expected 1 to 5\n  - b: expected a non-empty string, got 7\n  - c.d: expected a whole number, got "x"\n  - c.e: unknown field (known: d)',
    );
    expect(() => parseOrThrow(schema, { a: 1, b: 'x', c: { d: 0 }, z: 1 }, 'f.json', fail)).toThrow(
      'f.json: z: unknown field (known: a, b, c)',
    );
    const flood = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 1]));
    const message = (() => {
      try {
        parseOrThrow(strict({}), flood, 'f.json', fail);
      } catch (e) {
        return (e as Error).message;
      }
    })()!;
    expect(message.split('\n')).toHaveLength(52);
    expect(message).toMatch(/\.\.\. and 950 more problems$/);
    expect(formatProblems('h', [{ path: '', message: 'whole' }])).toBe('h: whole');
  });

  it("words zod's own issues the same way: a discriminated union's unknown kind, a wrong type", () => {
    const kinds = z.array(
      z.discriminatedUnion('kind', [
        strict({ kind: z.literal('compare'), margin: whole(0, 1) }),
        strict({ kind: z.literal('drop-at'), at: whole(1, 9) }),
      ]),
    );
    expect(() =>
      parseOrThrow(kinds, [{ kind: 'compare', margin: 0 }, { kind: 'bogus' }, 5], 'claims.json', fail),
    ).toThrow('claims.json:\n  - [1].kind: "bogus" is not one of compare, drop-at\n  - [2]: expected an object, got 5');
    expect(() => parseOrThrow(kinds, [{ kind: 'drop-at', at: 0, margin: 1 }], 'claims.json', fail)).toThrow(
      'claims.json:\n  - [0].at: 0 is out of range: expected 1 to 9\n  - [0].margin: unknown field (known: kind, at)',
    );
  });
});

describe('parseJson', () => {
  it('quotes no more than a short escaped excerpt of a file that is not JSON', () => {
    const secret = 'root:$y$j9T$SuperSecretHashValueThatMustNotLeak:19000:0:99999:7:::\n';
    let message = '';
    try {
      parseJson(secret, (reason) => new Error(`f: not valid JSON (${reason})`));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^f: not valid JSON \(unexpected "r" near "root:/);
    expect(message).not.toContain('SuperSecret');
    expect(message.length).toBeLessThan(100);
  });

  it('says where a broken document ends', () => {
    expect(() => parseJson('{"a": ', (reason) => new Error(reason))).toThrow('it ends in the middle of a value');
    expect(() => parseJson('{"a": 1} x', (reason) => new Error(reason))).toThrow(/at position 9 \(line 1 column 10\)/);
  });
});

describe('format versions', () => {
  // A synthetic format at version 3: version 1 called the size `bytes`, version 2 kept it in kB.
  const v3 = strict({ formatVersion: formatVersionField(3), sizeKiB: whole(0, 1_000_000), label: text() });
  const format: VersionedFormat = {
    current: 3,
    upgrades: {
      1: ({ bytes, ...rest }) => ({ ...rest, size: Math.round(Number(bytes) / 1000), label: 'from v1' }),
      2: ({ size, ...rest }) => ({ ...rest, sizeKiB: Math.round((Number(size) * 1000) / 1024) }),
    },
  };
  const reader = versioned(v3, format);
  const read = (doc: unknown) => parseOrThrow(reader, doc, 'doc.json', fail);

  it('reads the current version as it is', () => {
    expect(read({ formatVersion: 3, sizeKiB: 2, label: 'x' })).toEqual({ formatVersion: 3, sizeKiB: 2, label: 'x' });
  });

  it('upgrades an older document step by step before validating it', () => {
    expect(read({ formatVersion: 2, size: 1024, label: 'x' })).toEqual({ formatVersion: 3, sizeKiB: 1000, label: 'x' });
    expect(read({ formatVersion: 1, bytes: 1_024_000 })).toEqual({ formatVersion: 3, sizeKiB: 1000, label: 'from v1' });
  });

  it('validates what an upgrade made, naming the field', () => {
    expect(() => read({ formatVersion: 2, size: 1024 })).toThrow(
      'doc.json: label: expected a non-empty string, got nothing',
    );
  });

  it('refuses a newer version, an impossible one, and one older than the upgrades reach', () => {
    expect(() => read({ formatVersion: 4, sizeKiB: 1, label: 'x' })).toThrow(
      'doc.json: formatVersion: 4 is newer than this virtnet reads (3); upgrade virtnet',
    );
    expect(() => read({ formatVersion: -1, sizeKiB: 1, label: 'x' })).toThrow(
      'doc.json: formatVersion: -1 is not a format version: expected 1 to 3',
    );
    const partial = versioned(v3, { current: 3, upgrades: { 2: format.upgrades[2]! } });
    expect(() => parseOrThrow(partial, { formatVersion: 1, bytes: 1 }, 'doc.json', fail)).toThrow(
      'doc.json: formatVersion: 1 is older than any format this virtnet reads (2 to 3)',
    );
  });

  it('leaves the input untouched', () => {
    const doc = { formatVersion: 2, size: 1024, label: 'x' };
    read(doc);
    expect(doc).toEqual({ formatVersion: 2, size: 1024, label: 'x' });
  });

  it('upgrades work inside a bigger document, with paths into it', () => {
    const outer = strict({ inner: reader });
    expect(parseOrThrow(outer, { inner: { formatVersion: 2, size: 2048, label: 'y' } }, 'o', fail)).toEqual({
      inner: { formatVersion: 3, sizeKiB: 2000, label: 'y' },
    });
    expect(() => parseOrThrow(outer, { inner: { formatVersion: 9, whatever: 1 } }, 'o', fail)).toThrow(
      /^o: inner\.formatVersion: 9 is newer than this virtnet reads \(3\); upgrade virtnet$/,
    );
    expect(z.toJSONSchema(v3, { io: 'input' }).properties?.formatVersion).toMatchObject({ maximum: 3 });
  });
});
