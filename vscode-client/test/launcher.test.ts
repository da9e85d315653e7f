/**
 * bundled/tool/launch_server.py, run by a real python3 against a fake server
 * package, from a workspace that tries to shadow it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const launcher = resolve(__dirname, '..', '..', 'bundled', 'tool', 'launch_server.py');

/** A folder holding a package fmperf_ls whose server module prints who it is. */
function fakeServer(label: string): string {
    const root = mkdtempSync(join(tmpdir(), `fmperf-${label}-`));
    mkdirSync(join(root, 'fmperf_ls'));
    writeFileSync(join(root, 'fmperf_ls', '__init__.py'), '');
    writeFileSync(join(root, 'fmperf_ls', 'server.py'), [
        'import sys',
        'if __name__ == "__main__":',
        `    print("${label}", sys.argv[1:])`,
    ].join('\n'));
    return root;
}

function runLauncher(
    env: Record<string, string>, cwd: string,
): { out: string; status: number | null } {
    const result = spawnSync('python3', [launcher, '--stdio', '-v'], {
        cwd, env: { ...process.env, ...env }, encoding: 'utf8',
    });
    return { out: result.stdout.trim() + result.stderr.trim(), status: result.status };
}

describe('launch_server.py', () => {
    it('runs the bundled server with the arguments, not the workspace copy', () => {
        const bundled = fakeServer('bundled');
        const workspace = fakeServer('workspace');
        const { out, status } = runLauncher(
            { FMPERF_IMPORT_STRATEGY: 'useBundled', FMPERF_BUNDLED_LIBS: bundled }, workspace,
        );
        assert.equal(status, 0, out);
        assert.equal(out, "bundled ['--stdio', '-v']");
    });

    it('uses the environment for fromEnvironment, still ignoring the workspace', () => {
        const environment = fakeServer('environment');
        const workspace = fakeServer('workspace');
        const { out, status } = runLauncher(
            { FMPERF_IMPORT_STRATEGY: 'fromEnvironment', PYTHONPATH: environment }, workspace,
        );
        assert.equal(status, 0, out);
        assert.equal(out, "environment ['--stdio', '-v']");
    });

    it('says so when the bundled libraries are missing', () => {
        const { out, status } = runLauncher(
            { FMPERF_IMPORT_STRATEGY: 'useBundled', FMPERF_BUNDLED_LIBS: '/no/such/libs' },
            tmpdir(),
        );
        assert.equal(status, 4);
        assert.match(out, /bundled libraries missing/);
    });
});
