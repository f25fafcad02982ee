import { describe, expect, it } from 'vitest';
import { closestWord, didYouMean, editDistance, mdBlockText, mdCode, mdText, oneLine, plural } from './text.ts';

describe('plain text', () => {
  it('keeps outside text on its line and spells out control characters and bidi overrides', () => {
    expect(oneLine('a\nb\r\nc\rd\te')).toBe('a b c d e');
    expect(oneLine('\u001b[31mred\u001b[0m')).toBe('\\u{1b}[31mred\\u{1b}[0m');
    expect(oneLine('abc\u202edcba\u2066x\u2028y\u0000')).toBe('abc\\u{202e}dcba\\u{2066}x\\u{2028}y\\u{0}');
    expect(oneLine('ünïcödé ✓')).toBe('ünïcödé ✓');
  });
});

describe('markdown', () => {
  it('text: no HTML, no table break, no link, image or code; at a line start, no block either', () => {
    expect(mdText('<img src=x onerror=alert(1)>&')).toBe('&lt;img src=x onerror=alert(1)&gt;&amp;');
    expect(mdText('ok | bogus\n| forged | row |')).toBe('ok \\| bogus \\| forged \\| row \\|');
    expect(mdText('![x](javascript:alert(1)) [y](http://e.example) *b* `c` \\ TCP_STREAM')).toBe('!\\[x\\](javascript:alert(1)) \\[y\\](http://e.example) \\*b\\* \\`c\\` \\\\ TCP_STREAM');
    for (const [input, out] of [['# h', '\\# h'], ['- item', '\\- item'], ['+ item', '\\+ item'], ['1. item', '1\\. item'], ['12) item', '12\\) item'], ['> quote', '&gt; quote'], ['=== setext', '\\=== setext']]) expect(mdBlockText(input!), input).toBe(out);
    expect(mdText('90.00 - 1. #3')).toBe('90.00 - 1. #3');
  });

  it('code: verbatim inside enough backticks, on one line, pipes escaped, clipped', () => {
    expect(mdCode('<script>alert(1)</script>')).toBe('`<script>alert(1)</script>`');
    expect(mdCode('a`b``c')).toBe('```a`b``c```');
    expect(mdCode('`x')).toBe('`` `x ``');
    expect(mdCode('a|b\nc')).toBe('`a\\|b c`');
    expect(mdCode('x'.repeat(300))).toHaveLength(202);
    expect(mdCode('')).toBe('` `');
  });
});

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
