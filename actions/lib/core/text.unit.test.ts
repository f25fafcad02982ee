import { describe, expect, it } from 'vitest';
import { mdBlockText, mdCode, mdText, oneLine } from './text.ts';

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
