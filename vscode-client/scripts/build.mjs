// Bundle the extension with esbuild; with --tests, bundle each test file instead.
//
// Tests are bundled from TypeScript into out/test/ and run by `node --test`.
// They import only modules without a runtime `vscode` import, so no VS Code
// is needed; an accidental `vscode` import fails loudly at require time.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const tests = process.argv.includes('--tests');

const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // VS Code 1.82 runs extensions on node 18.
    target: 'node18',
    external: ['vscode'],
    logLevel: 'warning',
};

if (tests) {
    rmSync('out/test', { recursive: true, force: true });
    const entryPoints = readdirSync('test')
        .filter((name) => name.endsWith('.test.ts'))
        .map((name) => join('test', name));
    await esbuild.build({ ...common, entryPoints, outdir: 'out/test', sourcemap: 'inline' });
} else {
    await esbuild.build({
        ...common,
        entryPoints: ['src/extension.ts'],
        outfile: 'dist/extension.js',
        minify: production,
        sourcemap: !production,
    });
}
