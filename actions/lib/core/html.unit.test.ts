import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attribute,
  escapeHtml,
  html,
  jsonScript,
  safeHref,
  SafeHtml,
  scriptJson,
  TRUSTED_HTML_USES,
  trustedHtml,
  UnsafeHtmlError,
  UnsafeUrlError,
} from './html.ts';

const EVIL = '<img src=x onerror=alert(1)>';

describe('html``', () => {
  it('escapes every interpolated string and number, in text and in quoted attributes', () => {
    expect(String(html`<p title="${`"${EVIL}'`}">${EVIL} ${42}</p>`)).toBe(
      '<p title="&quot;&lt;img src=x onerror=alert(1)&gt;&#39;">&lt;img src=x onerror=alert(1)&gt; 42</p>',
    );
    expect(String(html`<p class='${"x' onclick='a"}'>`)).toBe(`<p class='x&#39; onclick=&#39;a'>`);
  });

  it('puts SafeHtml in as it is, joins arrays, and renders null, undefined and false as nothing', () => {
    const items = ['a', EVIL].map((t) => html`<li>${t}</li>`);
    expect(String(html`<ul>${items}</ul>${null}${undefined}${false}`)).toBe(
      '<ul><li>a</li><li>&lt;img src=x onerror=alert(1)&gt;</li></ul>',
    );
    expect(String(html`<p>${[[html`<b>x</b>`, '<'], 'y']}</p>`)).toBe('<p><b>x</b>&lt;y</p>');
  });

  it('SafeHtml cannot be made outside the module, nor faked by shape', () => {
    expect(() => new SafeHtml(Symbol('virtnet html'), EVIL)).toThrow(/never directly/);
    const fake = { toString: () => EVIL } as unknown as SafeHtml;
    expect(() => html`<p>${fake}</p>`).toThrow(UnsafeHtmlError);
  });

  it('refuses values where escaping cannot help: handlers, unquoted attributes, inside tags, style attributes', () => {
    expect(() => html`<a onclick="${'x'}">`).toThrow(/event-handler attribute \(onclick\)/);
    expect(() => html`<a onmouseover='go(${'1'})'>`).toThrow(/event-handler/);
    expect(() => html`<a title=${'x onmouseover=alert(1)'}>`).toThrow(/quote the attribute/);
    expect(() => html`<div ${'onclick=alert(1)'}>`).toThrow(/inside a tag only attribute\(\)/);
    // Escaped text is no better there: it has no character to escape.
    expect(() => html`<div ${html`${'onclick=alert(1)'}`}>`).toThrow(/inside a tag only attribute\(\)/);
    // Whole attributes from attribute() are fine; their names are checked.
    expect(String(html`<option value="${'a'}"${attribute('selected')}${attribute('title', '"x"')}>`)).toBe(
      '<option value="a" selected title="&quot;x&quot;">',
    );
    for (const name of ['onclick', 'style', 'href', 'x y', 'a"b', ''])
      expect(() => attribute(name), name).toThrow(UnsafeHtmlError);
    expect(() => html`<div style="color:${'red'}">`).toThrow(/style attribute/);
    expect(() => html`<p title="${html`<b>`}">`).toThrow(/markup cannot go into an attribute value/);
    // After the tag is closed, the same text is ordinary text again.
    expect(String(html`<a title="a">${'x=1'}</a>`)).toBe('<a title="a">x=1</a>');
  });

  it('URL attributes take only a SafeUrl', () => {
    expect(() => html`<a href="${'page.html'}">`).toThrow(/takes a SafeUrl/);
    expect(() => html`<img alt="" src="${'x.svg'}">`).toThrow(/takes a SafeUrl/);
    expect(() => html`<form action='${'x'}'>`).toThrow(/takes a SafeUrl/);
    expect(String(html`<a href="${safeHref('runs/a b/index.html?x=1&y=2#c')}">x</a>`)).toBe(
      '<a href="runs/a b/index.html?x=1&amp;y=2#c">x</a>',
    );
    expect(String(html`<a href="../../${safeHref('runs/x')}">`)).toBe('<a href="../../runs/x">');
  });

  it('inside <script> and <style>, only jsonScript() goes in; the JSON cannot close its element', () => {
    expect(() => html`<script>var x = ${'1'};</script>`).toThrow(/only jsonScript/);
    expect(() => html`<style>${'p{}'}</style>`).toThrow(/only jsonScript/);
    // Escaped text would still run inside <script>.
    expect(() => html`<script>${html`${'alert(1)'}`}</script>`).toThrow(/only jsonScript/);
    const doc = String(
      html`<script type="application/json" id="spec-${'a"b'}">${jsonScript({ t: `</script><script>alert(1)</script><!--\u2028` })}</script><p>${'<'}</p>`,
    );
    expect(doc).toBe(
      '<script type="application/json" id="spec-a&quot;b">{"t":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\\u003c!--\\u2028"}</script><p>&lt;</p>',
    );
    expect(JSON.parse(scriptJson({ t: '</script>\u2028' }))).toEqual({ t: '</script>\u2028' });
    // The closing tag ends the raw text, whatever case it is written in.
    expect(String(html`<STYLE>p{}</Style><p>${'<'}</p>`)).toBe('<STYLE>p{}</Style><p>&lt;</p>');
  });

  it('values in comments are escaped text (a `-->` in a value cannot close the comment)', () => {
    expect(String(html`<!-- ${'--><script>'} -->`)).toBe('<!-- --&gt;&lt;script&gt; -->');
  });

  it('escapeHtml escapes every metacharacter', () => {
    expect(escapeHtml(`${EVIL}"'&`)).toBe('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
  });
});

describe('safeHref', () => {
  it('accepts links relative to the page or the site', () => {
    for (const ok of [
      'index.html',
      '../../runs/a/index.html',
      'charts/fig4a.svg',
      '#claims',
      '?a=b:c',
      '/absolute/path',
      'a/b:c',
      '',
    ])
      expect(String(safeHref(ok))).toBe(ok);
  });

  it('refuses every scheme and every way to another host, as the URL parser would read them', () => {
    const refused = [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      '\u0001javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'http://evil.example',
      'https:evil.example',
      'file:///etc/passwd',
      '//evil.example/x',
      ' //evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'x\\y',
    ];
    for (const bad of refused) expect(() => safeHref(bad), bad).toThrow(UnsafeUrlError);
  });
});

describe('trustedHtml, the escape hatch', () => {
  it('is used only in the files that document why (TRUSTED_HTML_USES)', () => {
    const lib = join(import.meta.dirname, '..');
    const users: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (
          e.name.endsWith('.ts') &&
          !e.name.endsWith('.test.ts') &&
          p !== join(lib, 'core', 'html.ts') &&
          readFileSync(p, 'utf8').includes('trustedHtml(')
        )
          users.push(relative(lib, p));
      }
    };
    walk(lib);
    expect(users.sort()).toEqual(Object.keys(TRUSTED_HTML_USES).sort());
    expect(String(html`<div>${trustedHtml('<svg></svg>')}</div>`)).toBe('<div><svg></svg></div>');
  });
});
