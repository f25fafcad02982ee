import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, mdBlockText, mdCode, mdText, oneLine, terminalText, workflowLogText } from './escape.ts';

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
    expect(mdText('![x](javascript:alert(1)) [y](http://e.example) *b* `c` \\ TCP_STREAM')).toBe(
      '!\\[x\\](javascript:alert(1)) \\[y\\](http://e.example) \\*b\\* \\`c\\` \\\\ TCP_STREAM',
    );
    for (const [input, out] of [
      ['# h', '\\# h'],
      ['- item', '\\- item'],
      ['+ item', '\\+ item'],
      ['1. item', '1\\. item'],
      ['12) item', '12\\) item'],
      ['> quote', '&gt; quote'],
      ['=== setext', '\\=== setext'],
    ])
      expect(mdBlockText(input!), input).toBe(out);
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

describe('terminal', () => {
  it('keeps line breaks and tabs, spells out every other control character in the JSON way', () => {
    expect(terminalText('a\nb\tc\r\nd')).toBe('a\nb\tc\nd');
    expect(terminalText('\u001b]52;c;eA==\u0007 \u009b31m \u202e \r')).toBe(
      '\\u001b]52;c;eA==\\u0007 \\u009b31m \\u202e \\u000d',
    );
    // A JSON document printed stays valid JSON.
    expect(JSON.parse(terminalText(JSON.stringify({ a: '\u202e\u0085' })))).toEqual({ a: '\u202e\u0085' });
  });
});

describe('workflow log lines', () => {
  it('breaks up every line that the runner would read as a command, and only those', () => {
    expect(workflowLogText('::error title=x::boom')).toBe(': :error title=x::boom');
    expect(workflowLogText('ok\n  ::add-mask::Mbit\r::warning::w\r\n##[error]e')).toBe(
      'ok\n  : :add-mask::Mbit\n: :warning::w\n# #[error]e',
    );
    expect(workflowLogText('\u001b[31mred :: x')).toBe('\\u{1b}[31mred :: x');
    expect(workflowLogText('docker ready: a::b, 50% of it')).toBe('docker ready: a::b, 50% of it');
  });
});

describe('CSV', () => {
  it('marks formulas as text, quotes what would shift columns, keeps numbers', () => {
    for (const f of ['=1+1', '+1', '-x', '@SUM(A1)', '\t=1']) expect(csvCell(f)).toBe(`'${f}`);
    expect(csvCell('\r=1')).toBe('"\'\r=1"');
    expect(csvCell('=HYPERLINK("h","x")')).toBe('"\'=HYPERLINK(""h"",""x"")"');
    expect(csvCell('a,b')).toBe('"a,b"');
    for (const n of ['-1.5', '1e-7', '-0.25', '12', '3.5%']) expect(csvCell(n)).toBe(n);
    expect(csvCell(-2)).toBe('-2');
    expect(csvCell(null)).toBe('');
    expect(csvLine(['native', -1, '=x', undefined])).toBe("native,-1,'=x,");
  });
});
