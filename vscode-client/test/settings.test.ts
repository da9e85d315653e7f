import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    DEFAULTS, classifyChange, expandVariables, notificationAllowed, parseSettings,
    restrictForUntrusted, serverSettings, type Settings,
} from '../src/settings';

/** A getter like WorkspaceConfiguration.get over a plain object. */
function getter(values: Record<string, unknown>): (key: string) => unknown {
    return (key) => values[key];
}

describe('parseSettings', () => {
    it('gives the defaults when nothing is set', () => {
        const { settings, problems } = parseSettings(getter({}));
        assert.deepEqual(settings, DEFAULTS);
        assert.deepEqual(problems, []);
    });

    it('reads every setting', () => {
        const { settings, problems } = parseSettings(getter({
            interpreter: ['/venv/bin/python'],
            importStrategy: 'fromEnvironment',
            path: ['/bin/fmperf-ls'],
            args: ['-v'],
            select: ['FMP1', 'fmp201'],
            ignore: ['FMP105'],
            severity: { FMP101: 'error', fmp201: 'hint' },
            showNotifications: 'always',
        }));
        assert.deepEqual(problems, []);
        assert.deepEqual(settings, {
            interpreter: ['/venv/bin/python'],
            importStrategy: 'fromEnvironment',
            path: ['/bin/fmperf-ls'],
            args: ['-v'],
            select: ['FMP1', 'FMP201'],
            ignore: ['FMP105'],
            severity: { FMP101: 'error', FMP201: 'hint' },
            showNotifications: 'always',
        });
    });

    it('accepts a single string where a list is expected', () => {
        const { settings } = parseSettings(getter({ interpreter: '/usr/bin/python3' }));
        assert.deepEqual(settings.interpreter, ['/usr/bin/python3']);
    });

    it('falls back to defaults with one message per bad value', () => {
        const { settings, problems } = parseSettings(getter({
            importStrategy: 'fromPyPI',
            interpreter: 42,
            select: ['FMP101', 'not a code'],
            severity: { FMP101: 'fatal', 'x y': 'error', FMP102: 'warning' },
            showNotifications: true,
        }));
        assert.equal(settings.importStrategy, 'useBundled');
        assert.deepEqual(settings.interpreter, []);
        assert.deepEqual(settings.select, ['FMP101']);
        assert.deepEqual(settings.severity, { FMP102: 'warning' });
        assert.equal(settings.showNotifications, 'onError');
        assert.equal(problems.length, 6, problems.join('\n'));
        assert.match(problems.join('\n'), /fmperf\.importStrategy: "fromPyPI"/);
    });

    it('rejects a severity that is not an object', () => {
        const { settings, problems } = parseSettings(getter({ severity: ['FMP101'] }));
        assert.deepEqual(settings.severity, {});
        assert.equal(problems.length, 1);
    });

    it('drops empty strings and duplicate codes', () => {
        const { settings } = parseSettings(getter({ args: ['', '-v'], ignore: ['FMP1', 'fmp1'] }));
        assert.deepEqual(settings.args, ['-v']);
        assert.deepEqual(settings.ignore, ['FMP1']);
    });

    it('expands variables in paths and arguments', () => {
        const vars = { workspaceFolder: '/ws', userHome: '/home/u', env: { LOGS: '/tmp' } };
        const { settings } = parseSettings(getter({
            interpreter: ['${workspaceFolder}/.venv/bin/python'],
            args: ['--log-file', '${env:LOGS}/fmperf.log'],
            path: ['${userHome}/bin/fmperf-ls'],
        }), vars);
        assert.deepEqual(settings.interpreter, ['/ws/.venv/bin/python']);
        assert.deepEqual(settings.args, ['--log-file', '/tmp/fmperf.log']);
        assert.deepEqual(settings.path, ['/home/u/bin/fmperf-ls']);
    });
});

describe('expandVariables', () => {
    it('leaves unknown variables alone and empties unset env variables', () => {
        const vars = { env: {} };
        assert.equal(expandVariables('${workspaceFolder}/x', vars), '${workspaceFolder}/x');
        assert.equal(expandVariables('a${env:NOPE}b', vars), 'ab');
        assert.equal(expandVariables('${config:x}', vars), '${config:x}');
    });
});

describe('classifyChange', () => {
    const base: Settings = { ...DEFAULTS, severity: {} };

    it('restarts for anything that changes the command', () => {
        for (const change of [
            { interpreter: ['/x'] }, { importStrategy: 'fromEnvironment' as const },
            { path: ['/bin/x'] }, { args: ['-v'] },
        ]) {
            assert.equal(classifyChange(base, { ...base, ...change }), 'restart');
        }
    });

    it('reconfigures for rule selection and severity', () => {
        assert.equal(classifyChange(base, { ...base, select: ['FMP1'] }), 'reconfigure');
        assert.equal(classifyChange(base, { ...base, ignore: ['FMP1'] }), 'reconfigure');
        assert.equal(
            classifyChange(base, { ...base, severity: { FMP101: 'error' } }), 'reconfigure',
        );
    });

    it('does nothing for client-only settings', () => {
        assert.equal(classifyChange(base, { ...base, showNotifications: 'off' }), 'none');
        assert.equal(classifyChange(base, { ...base }), 'none');
    });
});

describe('restrictForUntrusted', () => {
    it('keeps the bundled server and drops an explicit command', () => {
        const settings = restrictForUntrusted({
            ...DEFAULTS, importStrategy: 'fromEnvironment', path: ['/x'], select: ['FMP1'],
        });
        assert.equal(settings.importStrategy, 'useBundled');
        assert.deepEqual(settings.path, []);
        assert.deepEqual(settings.select, ['FMP1']);
    });
});

describe('serverSettings', () => {
    it('sends only what the server understands', () => {
        const settings: Settings = {
            ...DEFAULTS, select: ['FMP1'], severity: { FMP101: 'hint' }, args: ['-v'],
        };
        assert.deepEqual(serverSettings(settings, ['/sp'], '/usr/bin/python3'), {
            select: ['FMP1'],
            ignore: [],
            severity: { FMP101: 'hint' },
            sitePackages: ['/sp'],
            interpreter: '/usr/bin/python3',
        });
        assert.equal('interpreter' in serverSettings(settings, []), false);
    });
});

describe('notificationAllowed', () => {
    it('follows fmperf.showNotifications', () => {
        const table: [Parameters<typeof notificationAllowed>[0], boolean[]][] = [
            ['off', [false, false, false]],
            ['onError', [true, false, false]],
            ['onWarning', [true, true, false]],
            ['always', [true, true, true]],
        ];
        for (const [level, expected] of table) {
            const got = (['error', 'warning', 'info'] as const)
                .map((kind) => notificationAllowed(level, kind));
            assert.deepEqual(got, expected, level);
        }
    });
});
