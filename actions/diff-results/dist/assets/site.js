// @ts-check
// The site's only script (type-checked by tsc with the rest of the code: `// @ts-check`).
// 1. Turns every .vega placeholder into an interactive chart (vega-embed); the SVG <img> stays when
//    scripts cannot run or a chart fails.
// 2. The history filters (index and history pages): hide the chart series and run-table rows whose
//    plan, runner pair or testbed (data-* attributes) do not match the selects; kept in the URL's query.
// 3. The diff picker (compare.html): goes to the pair's page when the site has it, else says which
//    command builds it. Run ids and the command are put in as text, never as HTML.
// Data comes only from <script type="application/json"> elements, read with JSON.parse.

(function () {
  'use strict';

  /** @typedef {(el: Element, spec: unknown, options: object) => Promise<unknown>} VegaEmbed */
  const vegaEmbed = /** @type {{ vegaEmbed?: VegaEmbed }} */ (/** @type {unknown} */ (window)).vegaEmbed;

  /** @param {string} id */
  function jsonOf(id) {
    const source = document.getElementById(id);
    return source && source.textContent !== null ? JSON.parse(source.textContent) : null;
  }

  /**
   * Words of `text` in lines of at most `max` characters (a word longer than that is a line of its own).
   * @param {string} text @param {number} max @returns {string[]}
   */
  function wrap(text, max) {
    /** @type {string[]} */
    const lines = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > max) {
        lines.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    if (line !== '') lines.push(line);
    return lines;
  }

  /**
   * The spec drawn at the width of its box: the plot fills the column (a chart's own width is for the
   * SVG file), and on a narrow screen its title and subtitle wrap instead of widening the page.
   * @param {any} spec @param {number} width
   */
  function fitted(spec, width) {
    if (typeof spec !== 'object' || spec === null || !(width > 0)) return spec;
    const out = { ...spec, width: 'container', autosize: { type: 'fit-x', contains: 'padding', resize: true } };
    const title = spec.title;
    // About 7 px a character at the title's 14 px, 6.5 at the subtitle's 12 px.
    if (title && typeof title === 'object' && typeof title.text === 'string') {
      const lines = (/** @type {unknown} */ s, /** @type {number} */ px) =>
        (Array.isArray(s) ? s : typeof s === 'string' ? [s] : []).flatMap((l) =>
          wrap(String(l), Math.max(20, Math.floor(width / px))),
        );
      out.title = {
        ...title,
        text: lines(title.text, 8),
        ...(title.subtitle === undefined ? {} : { subtitle: lines(title.subtitle, 7) }),
      };
    }
    return out;
  }

  for (const node of Array.from(document.querySelectorAll('.vega[data-chart]'))) {
    const id = node.getAttribute('data-chart') ?? '';
    const raw = jsonOf(`spec-${id}`);
    if (raw === null || typeof vegaEmbed !== 'function') continue;
    const spec = fitted(raw, node.clientWidth);
    const fallback = Array.from(node.childNodes);
    node.replaceChildren();
    vegaEmbed(node, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
      .then(() => node.setAttribute('data-rendered', 'true'))
      .catch((/** @type {unknown} */ err) => {
        node.replaceChildren(...fallback);
        node.setAttribute('data-rendered', 'fallback');
        console.warn(`chart ${id}: ${String(err)}`);
      });
  }

  const filters = document.getElementById('history-filters');
  if (filters instanceof HTMLFormElement) {
    const selects = Array.from(filters.querySelectorAll('select[data-filter]'));
    const apply = () => {
      /** @type {[string, string][]} */
      const wanted = [];
      for (const select of selects) {
        if (select instanceof HTMLSelectElement && select.value !== '')
          wanted.push([select.getAttribute('data-filter') ?? '', select.value]);
      }
      for (const el of Array.from(document.querySelectorAll('g.series, table.runs tr[data-run]'))) {
        const match = wanted.every(([name, value]) => el.getAttribute(`data-${name}`) === value);
        if (match) el.removeAttribute('data-filtered-out');
        else el.setAttribute('data-filtered-out', '');
      }
    };
    // The filters live in the URL (?plan=...&pair=...&testbed=...): a filtered view can be linked and
    // survives a reload. Only values a select offers are taken from it.
    const query = new URLSearchParams(window.location.search);
    for (const select of selects) {
      if (!(select instanceof HTMLSelectElement)) continue;
      const value = query.get(select.getAttribute('data-filter') ?? '');
      if (value !== null && Array.from(select.options).some((o) => o.value === value)) select.value = value;
    }
    const remember = () => {
      const next = new URLSearchParams(window.location.search);
      for (const select of selects) {
        if (!(select instanceof HTMLSelectElement)) continue;
        const name = select.getAttribute('data-filter') ?? '';
        if (select.value === '') next.delete(name);
        else next.set(name, select.value);
      }
      const search = next.toString();
      window.history.replaceState(
        null,
        '',
        `${window.location.pathname}${search ? `?${search}` : ''}${window.location.hash}`,
      );
    };
    filters.addEventListener('change', () => {
      apply();
      remember();
    });
    filters.addEventListener('submit', (event) => event.preventDefault());
    apply();
  }

  const picker = document.getElementById('diff-picker');
  const result = document.getElementById('picker-result');
  /** @type {{ pairs: Record<string, string>, command: string } | null} */
  const data = jsonOf('diff-pairs');
  if (picker instanceof HTMLFormElement && result && data) {
    // Only a diff page of this site is ever a target, whatever the data says.
    /** @param {string} key */
    const pathOf = (key) => {
      const path = Object.hasOwn(data.pairs, key) ? data.pairs[key] : undefined;
      return typeof path === 'string' && /^diffs\/[A-Za-z0-9._-]+--[A-Za-z0-9._-]+\/index\.html$/.test(path)
        ? path
        : undefined;
    };
    /** @param {string} name */
    const valueOf = (name) => {
      const field = picker.elements.namedItem(name);
      return field instanceof HTMLSelectElement ? field.value : '';
    };
    picker.addEventListener('submit', (event) => {
      event.preventDefault();
      const a = valueOf('a');
      const b = valueOf('b');
      result.textContent = '';
      if (a === b) {
        result.textContent = 'A and B are the same run: pick two different runs.';
        return;
      }
      const path = pathOf(`${a}:${b}`);
      if (path !== undefined) {
        window.location.href = path;
        return;
      }
      result.append(`The diff of B ${b} against A ${a} is not built. Build it with:`);
      const code = document.createElement('code');
      code.textContent = `${data.command} --diff ${a}:${b}`;
      result.append(code);
      const reverse = pathOf(`${b}:${a}`);
      if (reverse !== undefined) {
        const link = document.createElement('a');
        link.href = reverse;
        link.textContent = `the reverse diff (A ${b}, B ${a}) is built`;
        result.append(link);
      }
    });
  }
})();
