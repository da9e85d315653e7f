import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launcherPath, planLaunch } from '../src/launch';
import { DEFAULTS, type Settings } from '../src/settings';
import type { Resolved } from '../src/interpreter';

const interpreter: Resolved = {
    command: ['python3'],
    source: 'PATH',
    info: { executable: '/usr/bin/python3', version: [3, 11], sitePackages: [], hasFmperf: false },
};

function settings(extra: Partial<Settings> = {}): Settings {
    return { ...DEFAULTS, ...extra };
}

describe('planLaunch', () => {
    it('runs the launcher file with the bundled libraries by default', () => {
        const plan = planLaunch({
            settings: settings({ args: ['-v'] }), interpreter, extensionPath: '/ext', cwd: '/ws',
        });
        assert.equal(plan.command, '/usr/bin/python3');
        assert.deepEqual(plan.args, [launcherPath('/ext'), '-v']);
        assert.equal(plan.env.FMPERF_IMPORT_STRATEGY, 'useBundled');
        assert.equal(plan.env.FMPERF_BUNDLED_LIBS, '/ext/bundled/libs');
        assert.equal(plan.cwd, '/ws');
        // Never `-m`: that would import from the workspace (the current directory).
        assert.equal(plan.args.includes('-m'), false);
        assert.match(plan.description, /useBundled server on \/usr\/bin\/python3 \(Python 3\.11/);
    });

    it('runs the executable the probe found, not the PATH name', () => {
        const plan = planLaunch({
            settings: settings(), interpreter, extensionPath: '/e', cwd: '/w',
        });
        assert.equal(plan.command, '/usr/bin/python3');
    });

    it('keeps interpreter arguments before the launcher', () => {
        const plan = planLaunch({
            settings: settings({ importStrategy: 'fromEnvironment' }),
            interpreter: { ...interpreter, command: ['py', '-3'] },
            extensionPath: '/ext',
            cwd: '/ws',
        });
        assert.equal(plan.command, 'py');
        assert.deepEqual(plan.args, ['-3', launcherPath('/ext')]);
        assert.equal(plan.env.FMPERF_IMPORT_STRATEGY, 'fromEnvironment');
    });

    it('runs fmperf.path as given, with fmperf.args after it', () => {
        const plan = planLaunch({
            settings: settings({
                path: ['/venv/bin/fmperf-ls', '--log-file', '/tmp/l'], args: ['-v'],
            }),
            extensionPath: '/ext',
            cwd: '/ws',
        });
        assert.equal(plan.command, '/venv/bin/fmperf-ls');
        assert.deepEqual(plan.args, ['--log-file', '/tmp/l', '-v']);
        assert.deepEqual(plan.env, {});
    });

    it('needs an interpreter without fmperf.path', () => {
        assert.throws(() => planLaunch({ settings: settings(), extensionPath: '/e', cwd: '/w' }));
    });
});
