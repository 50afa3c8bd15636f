/**
 * Builds the web app into a static folder: the pages' HTML and CSS, one
 * esbuild bundle per page and worker (the same core as Node, from src/), and
 * onnxruntime-web's wasm files. The bundles get each module's browser
 * counterpart where src/ has one (`foo.web.ts` for `foo.ts`: the ONNX Runtime
 * host and the wink-nlp loader); nothing else of src/ changes for the browser.
 *
 *   node dist/web/build.js [outDir]     (npm run build:web → web/dist)
 */
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/** The repository root: the folder above this file's with package.json (works from web/ and from dist/web/). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

/** Script entry points, by the name of the bundle they become (assets/<name>.js). */
export const ENTRIES: Readonly<Record<string, string>> = {
  playground: 'web/src/pages/playground.ts',
  dashboard: 'web/src/pages/dashboard.ts',
  model: 'web/src/pages/model.ts',
  train: 'web/src/pages/train.ts',
  run: 'web/src/pages/run.ts',
  bench: 'web/src/pages/bench.ts',
  'train-worker': 'web/src/worker/train-worker.ts',
};

/** Static files copied as they are. */
const PAGES = ['index.html', 'playground.html', 'dashboard.html', 'model.html', 'train.html', 'run.html', 'bench.html', 'styles.css'];

/**
 * onnxruntime-web's runtimes, fetched by the bundles at run time: the threaded
 * SIMD wasm build and its loader, and the WebGPU build's (asyncify), loaded
 * only when a page runs on WebGPU.
 */
const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.asyncify.mjs'];

/**
 * Leaves Node built-ins unresolved (external) instead of failing the build, so
 * that nodeImports() can name every module that imports one.
 */
const nodeBuiltinsExternal: esbuild.Plugin = {
  name: 'inkwell-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => (isBuiltin(args.path) ? { path: args.path, external: true } : undefined));
  },
};

/**
 * Where src/ has a browser counterpart of a module (`foo.web.ts` beside
 * `foo.ts`: the ONNX Runtime host, the wink-nlp loader), bundles get it instead.
 */
const browserCounterparts: esbuild.Plugin = {
  name: 'inkwell-browser-counterparts',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const web = path.resolve(args.resolveDir, args.path).replace(/\.js$/, '.web.ts');
      return fs.existsSync(web) ? { path: web } : undefined;
    });
  },
};

export interface WebBuild {
  outDir: string;
  /** esbuild's record of every module in every bundle (the browser-safety test reads its inputs). */
  metafile: esbuild.Metafile;
}

export async function buildWeb(outDir: string, opts: { minify?: boolean; entries?: readonly string[] } = {}): Promise<WebBuild> {
  const root = repoRoot();
  fs.mkdirSync(path.join(outDir, 'assets'), { recursive: true });
  fs.mkdirSync(path.join(outDir, 'ort'), { recursive: true });
  const entries = Object.entries(ENTRIES).filter(([out]) => !opts.entries || opts.entries.includes(out));
  const metafile = await bundle(Object.fromEntries(entries), path.join(outDir, 'assets'), opts.minify ?? false);
  for (const f of PAGES) fs.copyFileSync(path.join(root, 'web', f), path.join(outDir, f));
  const ortDist = path.join(root, 'node_modules', 'onnxruntime-web', 'dist');
  for (const f of ORT_FILES) fs.copyFileSync(path.join(ortDist, f), path.join(outDir, 'ort', f));
  return { outDir, metafile };
}

/** Bundles `entries` (bundle name → source path, relative to the repository) for the browser into `outdir`. */
export async function bundle(entries: Readonly<Record<string, string>>, outdir: string, minify = false): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    absWorkingDir: repoRoot(),
    entryPoints: Object.entries(entries).map(([out, inp]) => ({ in: inp, out })),
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // onnxruntime-web's build that loads its wasm and loader from ort.env.wasm.wasmPaths instead of inlining them.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [browserCounterparts, nodeBuiltinsExternal],
  });
  return result.metafile;
}

/** The modules of the bundles that import a Node built-in (`node:fs`, or plain `fs`), as 'file imports module' lines. */
export function nodeImports(metafile: esbuild.Metafile): string[] {
  const found: string[] = [];
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imp of input.imports) {
      if (isBuiltin(imp.path)) found.push(`${file} imports ${imp.path}`);
    }
  }
  return found;
}

function isBuiltin(p: string): boolean {
  return p.startsWith('node:') || builtinModules.includes(p.split('/')[0]!);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const out = path.resolve(process.argv[2] ?? path.join(repoRoot(), 'web', 'dist'));
  const { metafile } = await buildWeb(out, { minify: true });
  const bad = nodeImports(metafile);
  if (bad.length) {
    console.error(`the browser bundles import Node modules:\n${bad.join('\n')}`);
    process.exit(1);
  }
  console.log(`web app built into ${out}`);
}
