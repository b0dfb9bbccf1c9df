import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The shape of the tree, checked on the TypeScript sources: no import cycle anywhere, thread code
 * and main-thread code kept apart, and files and classes small enough to read.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_FILE_LINES = 300;
const MAX_CLASS_LINES = 200;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

const files = ['src', 'workers', 'test', 'bench'].flatMap(sources);
const text = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

function parse(file: string, source: string): ts.SourceFile {
  return ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
}
/** The parsed files of src/ and workers/, which the rules below read. */
const trees = new Map([...text].filter(([file]) => file.startsWith('src/') || file.startsWith('workers/')).map(([file, source]) => [file, parse(file, source)]));

/** The project files a file imports (relative specifiers only; `.js` in them names the `.ts`). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(text.get(file)!, true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => relative(ROOT, resolve(ROOT, dirname(file), name)).replace(/\.js$/, '.ts'))
    .filter((name) => text.has(name));
}

const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** Every import cycle, each as the path that closes it. */
export function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return found;
}

t.test('the cycle finder finds a cycle (so that an empty answer means something)', async (t) => {
  const found = cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]));
  t.same(found, [['a', 'b', 'c', 'a']]);
  t.same(cycles(new Map([['a', ['b']], ['b', []]])), []);
});

t.test('no import cycle in the tree', async (t) => {
  t.ok(graph.get('src/http/server.ts')!.includes('src/cluster/cluster.ts'), 'imports are read');
  t.same(cycles(graph), []);
});

t.test('thread code imports no main-thread code; code both threads use imports neither', async (t) => {
  for (const [file, imports] of graph) {
    if (file.startsWith('workers/')) {
      const outside = imports.filter((name) => !name.startsWith('workers/') && !name.startsWith('src/core/'));
      t.same(outside, [], `${file} imports only workers/ and src/core/`);
    }
    if (file.startsWith('src/core/')) {
      t.same(imports.filter((name) => !name.startsWith('src/core/')), [], `${file} imports only src/core/`);
    }
  }
  const packages = files
    .filter((file) => file.startsWith('workers/'))
    .flatMap((file) => ts.preProcessFile(text.get(file)!, true, true).importedFiles.map(({ fileName }) => fileName))
    .filter((name) => !name.startsWith('.') && !name.startsWith('node:'));
  t.same([...new Set(packages)], ['piscina'], 'workers/ imports no package but piscina (for its entry point)');
});

t.test(`files in src/ and workers/ are at most ${MAX_FILE_LINES} lines, classes at most ${MAX_CLASS_LINES}`, async (t) => {
  for (const [file, tree] of trees) {
    const lines = text.get(file)!.split('\n').length;
    t.ok(lines <= MAX_FILE_LINES, `${file}: ${lines} lines`);
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node)) {
        const start = tree.getLineAndCharacterOfPosition(node.getStart(tree)).line;
        const end = tree.getLineAndCharacterOfPosition(node.getEnd()).line;
        t.ok(end - start + 1 <= MAX_CLASS_LINES, `${file}: class ${node.name?.text ?? '(anonymous)'} is ${end - start + 1} lines`);
      }
      ts.forEachChild(node, visit);
    };
    visit(tree);
  }
});

/**
 * Node's globals that are accessors on globalThis, and the module each is imported from. Read as
 * a global, each use is a getter call that optimized code cannot fold (Buffer.byteLength of a
 * short key: 16-24 ns as a global, 9-13 imported; wrk GET: 0.96x CPU a request once imported).
 */
const ACCESSOR_GLOBALS: Record<string, string> = { Buffer: 'node:buffer', performance: 'node:perf_hooks', process: 'node:process' };

/** The accessor globals `source` uses at run time (`Buffer.from`, `process.env`) without importing them. */
export function unimportedGlobals(tree: ts.SourceFile): string[] {
  const imported = new Set<string>();
  const used = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.importClause !== undefined && !node.importClause.isTypeOnly) {
      const module = node.moduleSpecifier.text;
      const clause = node.importClause;
      if (clause.name !== undefined && ACCESSOR_GLOBALS[clause.name.text] === module) imported.add(clause.name.text);
      if (clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings)) {
        for (const element of clause.namedBindings.elements) {
          if (!element.isTypeOnly && ACCESSOR_GLOBALS[element.name.text] === module) imported.add(element.name.text);
        }
      }
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text in ACCESSOR_GLOBALS) used.add(node.expression.text);
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return [...used].filter((name) => !imported.has(name)).sort();
}

t.test('the accessor-global check finds a global use and accepts an import', async (t) => {
  t.same(unimportedGlobals(parse('a.ts', "const n = Buffer.byteLength('x'); process.exit(0);")), ['Buffer', 'process']);
  t.same(unimportedGlobals(parse('b.ts', "import { Buffer } from 'node:buffer';\nimport process from 'node:process';\nBuffer.from('x'); process.exit(0);")), []);
  t.same(unimportedGlobals(parse('c.ts', "import type { Buffer } from 'node:buffer';\nlet b: Buffer = Buffer.alloc(1);")), ['Buffer']);
});

t.test('src/ and workers/ import Buffer, performance and process instead of reading them from globalThis', async (t) => {
  for (const [file, tree] of trees) t.same(unimportedGlobals(tree), [], `${file} imports the accessor globals it uses`);
});
