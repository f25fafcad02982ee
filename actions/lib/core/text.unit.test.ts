import { describe, expect, it } from 'vitest';
import { closestWord, didYouMean, editDistance, plural } from './text.ts';

describe('did you mean', () => {
  it('measures edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('docker', 'docker')).toBe(0);
  });
  it('suggests the nearest known word within a third of its length, or one it starts', () => {
    const commands = ['run', 'testbed', 'report', 'cleanup', 'diff', 'serve'];
    expect(closestWord('reprot', commands)).toBe('report');
    expect(closestWord('rn', commands)).toBe('run');
    expect(closestWord('clean', commands)).toBe('cleanup');
    expect(closestWord('xyzzy', commands)).toBeNull();
    expect(didYouMean('dokcer', ['native', 'docker', 'kvm', 'osv'])).toBe(' (did you mean docker?)');
    expect(didYouMean('--replicate', ['--replicates', '--resume'])).toBe(' (did you mean --replicates?)');
    expect(didYouMean('--frobnicate', ['--replicates', '--resume'])).toBe('');
  });
  it('puts a count with its noun in the right number', () => {
    expect(plural(1, 'replicate')).toBe('1 replicate');
    expect(plural(3, 'replicate')).toBe('3 replicates');
    expect(plural(0, 'point')).toBe('0 points');
    expect(plural(2, 'was', 'were')).toBe('2 were');
  });
});
