// HTML from templates: every page of the site, the diff pages and the standalone diff page are built
// with the html`...` tag, which escapes every interpolated value unless it is already SafeHtml. A
// SafeHtml can only come from this module: from the tag itself, from jsonScript() (data for a
// <script type="application/json">), or from trustedHtml(), the one escape hatch, whose every use
// in the library is listed with its reason in TRUSTED_HTML_USES (a test keeps the list honest).
//
// The tag also refuses, when a page is rendered, the interpolations that escaping cannot make safe:
// a value in an event-handler or style attribute, in an unquoted attribute, text inside a tag
// (only attribute() goes there), anything but jsonScript() or trustedHtml() in the body of a
// <script> or <style> (escaped text would still run inside <script>),
// markup in an attribute value, and a plain string in a URL attribute (URL_ATTRIBUTES), which takes
// only a SafeUrl from safeHref(). Numbers and text are escaped for text and quoted attributes.

const TOKEN = Symbol('virtnet html');

/** What a SafeHtml is, which decides where it may go: markup goes into text; script data and trusted text also into a <script> or <style> body; an attribute also into a tag. */
type SafeKind = 'markup' | 'script-data' | 'trusted' | 'attribute';

/** HTML known to be safe: made by the html`` tag, jsonScript(), attribute() or trustedHtml(). */
export class SafeHtml {
  readonly #html: string;
  readonly #kind: SafeKind;
  /** Not for use outside this module: the constructor refuses any caller without the module's token. */
  constructor(token: symbol, html: string, kind: SafeKind = 'markup') {
    if (token !== TOKEN)
      throw new Error('SafeHtml is made by html``, jsonScript(), attribute() or trustedHtml(), never directly');
    this.#html = html;
    this.#kind = kind;
  }
  get kind(): SafeKind {
    return this.#kind;
  }
  toString(): string {
    return this.#html;
  }
}

/** A link target checked by safeHref(): relative to the page, never a scheme such as javascript:. */
export class SafeUrl {
  readonly #url: string;
  constructor(token: symbol, url: string) {
    if (token !== TOKEN) throw new Error('SafeUrl is made by safeHref(), never directly');
    this.#url = url;
  }
  toString(): string {
    return this.#url;
  }
}

/** What may go into ${}: text and numbers (escaped), SafeHtml (as is), lists of them, and nothing (null, undefined, false). */
export type HtmlValue = SafeHtml | SafeUrl | string | number | null | undefined | false | readonly HtmlValue[];

/** Escapes a value for HTML text and double- or single-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export class UnsafeHtmlError extends Error {
  override name = 'UnsafeHtmlError';
}

/** Where a ${} sits in its template, which decides what it may hold. */
type Context = 'text' | 'attribute' | 'url' | 'raw-text' | 'in-tag' | { forbidden: string };

const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'poster',
  'srcset',
  'xlink:href',
  'background',
  'cite',
  'data',
  'ping',
]);

/**
 * The context of each ${} of a template, from its literal parts alone (values never change the
 * state: text is escaped, SafeHtml is whole elements), computed once per call site. A small HTML
 * tokenizer: text, a tag (outside quotes), a quoted attribute value, a comment, and the raw text of
 * <script> and <style>.
 */
function contexts(strings: TemplateStringsArray): Context[] {
  type State = 'text' | 'tag' | 'dq' | 'sq' | 'comment' | 'raw';
  let state: State = 'text';
  let tagName = '';
  let closing = false;
  let tagText = '';
  let attribute = '';
  const out: Context[] = [];
  for (let part = 0; part < strings.length; part++) {
    const s = strings[part]!;
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      switch (state) {
        case 'text': {
          if (s.startsWith('<!--', i)) {
            state = 'comment';
            i += 3;
          } else if (c === '<') {
            const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)/.exec(s.slice(i));
            if (m) {
              state = 'tag';
              closing = m[1] === '/';
              tagName = m[2]!.toLowerCase();
              tagText = '';
              i += m[0].length - 1;
            }
          }
          break;
        }
        case 'comment':
          if (s.startsWith('-->', i)) {
            state = 'text';
            i += 2;
          }
          break;
        case 'tag':
          if (c === '"' || c === "'") {
            attribute = (/([^\s"'>/=]+)\s*=\s*$/.exec(tagText)?.[1] ?? '').toLowerCase();
            state = c === '"' ? 'dq' : 'sq';
          } else if (c === '>') {
            state = !closing && (tagName === 'script' || tagName === 'style') ? 'raw' : 'text';
          } else tagText += c;
          break;
        case 'dq':
        case 'sq':
          if (c === (state === 'dq' ? '"' : "'")) {
            state = 'tag';
            tagText += '""'; // the value, done with: what follows is no longer right after '='
          }
          break;
        case 'raw':
          if (s.slice(i, i + 2 + tagName.length).toLowerCase() === `</${tagName}`) {
            state = 'tag';
            closing = true;
            tagText = '';
            i += 1 + tagName.length;
          }
          break;
      }
    }
    if (part === strings.length - 1) break;
    switch (state) {
      case 'text':
      case 'comment':
        out.push('text');
        break;
      case 'raw':
        out.push('raw-text');
        break;
      case 'tag':
        out.push(
          /=\s*$/.test(tagText)
            ? { forbidden: 'quote the attribute: an unquoted value can be broken out of by a space' }
            : 'in-tag',
        );
        break;
      default:
        if (attribute.startsWith('on'))
          out.push({ forbidden: `a value in an event-handler attribute (${attribute}) is never safe` });
        else if (attribute === 'style')
          out.push({ forbidden: 'a value in a style attribute can load URLs: use a class' });
        else out.push(URL_ATTRIBUTES.has(attribute) ? 'url' : 'attribute');
    }
  }
  return out;
}

const contextCache = new WeakMap<TemplateStringsArray, Context[]>();

function renderText(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(renderText).join('');
  if (typeof value === 'string' || typeof value === 'number' || value instanceof SafeUrl) return escapeHtml(value);
  throw new UnsafeHtmlError(`cannot put a ${typeof value} into HTML`);
}

function renderAttribute(value: HtmlValue, where: () => string): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) throw new UnsafeHtmlError(`markup cannot go into an attribute value ${where()}`);
  if (Array.isArray(value)) return value.map((v) => renderAttribute(v, where)).join('');
  if (typeof value === 'string' || typeof value === 'number' || value instanceof SafeUrl) return escapeHtml(value);
  throw new UnsafeHtmlError(`cannot put a ${typeof value} into HTML`);
}

/** The tag: html`<p>${text}</p>` escapes text; SafeHtml values and arrays of them go in as they are. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let ctx = contextCache.get(strings);
  if (ctx === undefined) {
    ctx = contexts(strings);
    contextCache.set(strings, ctx);
  }
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const context = ctx[i]!;
    const where = () => `(after ${JSON.stringify(strings[i]!.slice(-60))})`;
    if (typeof context === 'object') throw new UnsafeHtmlError(`${context.forbidden} ${where()}`);
    if (context === 'url') {
      if (!(value instanceof SafeUrl))
        throw new UnsafeHtmlError(
          `a URL attribute takes a SafeUrl from safeHref(), got ${JSON.stringify(String(value))} ${where()}`,
        );
      out += escapeHtml(value);
    } else if (context === 'raw-text') {
      // Escaped text is not safe here: inside <script> it would run. Only data and trusted text.
      if (!(value instanceof SafeHtml && (value.kind === 'script-data' || value.kind === 'trusted')))
        throw new UnsafeHtmlError(
          `inside <script> or <style> only jsonScript() (or a listed trustedHtml()) may be interpolated, got ${JSON.stringify(String(value))} ${where()}`,
        );
      out += value.toString();
    } else if (context === 'in-tag') {
      // Only whole attributes from attribute(): text (escaped or not) here could add attributes.
      if (
        value !== null &&
        value !== undefined &&
        value !== false &&
        !(value instanceof SafeHtml && value.kind === 'attribute')
      )
        throw new UnsafeHtmlError(
          `inside a tag only attribute() may be interpolated (text could add attributes: put it in a quoted attribute value) ${where()}`,
        );
      out += renderText(value);
    } else if (context === 'attribute') out += renderAttribute(value, where);
    else out += renderText(value);
    out += strings[i + 1]!;
  }
  return new SafeHtml(TOKEN, out);
}

/** JSON for the body of a <script type="application/json">: no `<` can start `</script>` or `<!--`. */
export function jsonScript(value: unknown): SafeHtml {
  return new SafeHtml(TOKEN, scriptJson(value), 'script-data');
}

/** A whole attribute for a tag, e.g. html`<option${attribute('selected')}>`: a plain name, and a value escaped in double quotes. */
export function attribute(name: string, value?: string | number): SafeHtml {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || name.startsWith('on') || name === 'style' || URL_ATTRIBUTES.has(name))
    throw new UnsafeHtmlError(
      `attribute(${JSON.stringify(name)}): not a plain, safe attribute name (event handlers, style and URL attributes go in the template)`,
    );
  return new SafeHtml(TOKEN, value === undefined ? ` ${name}` : ` ${name}="${escapeHtml(value)}"`, 'attribute');
}

/** The text of jsonScript(): JSON with `<` and the two JavaScript line terminators escaped. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The escape hatch: markup that did not come from a template but is safe for a stated reason. Each
 * use in the library is listed in TRUSTED_HTML_USES; html.unit.test.ts fails on a use not listed there.
 */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(TOKEN, markup, 'trusted');
}

/** Every call of trustedHtml() in actions/lib, by file, with why its markup is safe. */
export const TRUSTED_HTML_USES: Record<string, string> = {
  'site/standalone-diff.ts':
    "the standalone diff page inlines SVGs vega drew from the diff's own specs (vega writes every text as escaped SVG text) and the site's stylesheet, a file of this repository",
};

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

/**
 * Checks a link target: a path relative to the page (or to the site's host), optionally with a query
 * and fragment. Refused: any scheme (javascript:, data:, http: ...), protocol-relative `//host`
 * and backslashes (browsers read `/\host` as `//host`). The check is made on the string the URL
 * parser sees: it drops tabs and newlines anywhere and control characters and spaces at either end.
 */
export function safeHref(url: string): SafeUrl {
  const seen = url.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  const firstSegment = seen.split(/[/?#]/, 1)[0]!;
  if (firstSegment.includes(':'))
    throw new UnsafeUrlError(`link ${JSON.stringify(url)} has a scheme: only links relative to the site are allowed`);
  if (seen.startsWith('//') || seen.includes('\\'))
    throw new UnsafeUrlError(
      `link ${JSON.stringify(url)} could lead to another host: only links relative to the site are allowed`,
    );
  return new SafeUrl(TOKEN, url);
}
