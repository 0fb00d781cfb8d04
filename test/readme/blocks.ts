/**
 * The README's runnable blocks. A fenced ```js block runs when the line before it (blank
 * lines allowed) is an HTML comment:
 *
 *   <!-- readme-test: run -->
 *   <!-- readme-test: run setup=peer expect="CONTOSO\\alice" -->
 *
 * - `setup=NAME` loads test/readme/setup/NAME.mjs first (`node --import`), for what the
 *   block takes from its surroundings (a client's tokens, an HTTP client).
 * - `expect="TEXT"`: the block's stdout must contain TEXT (a backslash escapes a quote or backslash).
 * - `// file: NAME` lines split a block into files written side by side; the first one runs.
 *   A block (or file) with `import`/`export` statements is ESM (.mjs), else CommonJS (.cjs),
 *   unless its file name says otherwise.
 * Blocks run in an empty folder whose node_modules/sspi-context is this package (dist/).
 */
export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  setup?: string;
  expect?: string;
  files: { name: string; source: string }[];
}

const MARK = /^<!--\s*readme-test:\s*run\b(.*?)-->\s*$/;

function unquote(s: string): string {
  return s.replace(/\\(["\\])/g, '$1');
}

export function runnableBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const out: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARK.exec(lines[i]!.trim());
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    if (!/^```js\s*$/.test(lines[j] ?? '')) throw new Error(`README line ${i + 1}: readme-test mark not followed by a \`\`\`js block`);
    const end = lines.indexOf('```', j + 1);
    if (end < 0) throw new Error(`README line ${j + 1}: unterminated block`);
    const attrs = m[1]!;
    const setup = /\bsetup=([\w-]+)/.exec(attrs)?.[1];
    const expectText = /\bexpect="((?:[^"\\]|\\.)*)"/.exec(attrs)?.[1];
    out.push({ line: j + 1, ...(setup ? { setup } : {}), ...(expectText !== undefined ? { expect: unquote(expectText) } : {}), files: splitFiles(lines.slice(j + 1, end)) });
    i = end;
  }
  return out;
}

function splitFiles(body: string[]): { name: string; source: string }[] {
  const files: { name: string; lines: string[] }[] = [];
  for (const l of body) {
    const f = /^\/\/ file: (\S+)/.exec(l);
    if (f) files.push({ name: f[1]!, lines: [] });
    else if (files.length === 0) files.push({ name: '', lines: [l] });
    else files[files.length - 1]!.lines.push(l);
  }
  return files.map((f, i) => {
    const source = f.lines.join('\n') + '\n';
    const esm = /^\s*(import|export)\s/m.test(source);
    return { name: f.name || `block${i}.${esm ? 'mjs' : 'cjs'}`, source };
  });
}
