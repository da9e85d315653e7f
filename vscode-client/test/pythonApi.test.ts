import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    PYTHON_EXTENSION_ID, interpreterFromApi, onInterpreterChange, pythonExtensionApi,
    type ExtensionLookup,
} from '../src/pythonApi';

function lookup(extension: ReturnType<ExtensionLookup['getExtension']>): ExtensionLookup {
    return { getExtension: (id) => (id === PYTHON_EXTENSION_ID ? extension : undefined) };
}

describe('pythonExtensionApi', () => {
    it('is undefined when the Python extension is not installed', async () => {
        assert.equal(await pythonExtensionApi(lookup(undefined)), undefined);
    });

    it('activates the extension and returns its exports', async () => {
        const api = { marker: 1 };
        const extension = { isActive: false, exports: undefined, activate: async () => api };
        assert.equal(await pythonExtensionApi(lookup(extension)), api);
    });

    it('survives an activation that fails or hangs', async () => {
        const fail = async () => { throw new Error('x'); };
        const failing = { isActive: false, exports: undefined, activate: fail };
        assert.equal(await pythonExtensionApi(lookup(failing)), undefined);
        const never = () => new Promise(() => {});
        const hanging = { isActive: false, exports: undefined, activate: never };
        assert.equal(await pythonExtensionApi(lookup(hanging as never), 50), undefined);
    });
});

describe('interpreterFromApi', () => {
    it('uses the environments API', async () => {
        const api = {
            environments: {
                getActiveEnvironmentPath: () => ({ id: 'x', path: '/envs/a' }),
                resolveEnvironment: async () => ({
                    executable: { uri: { fsPath: '/envs/a/bin/python' } },
                }),
            },
        };
        assert.deepEqual(await interpreterFromApi(api), ['/envs/a/bin/python']);
    });

    it('falls back to the active path when the environment does not resolve', async () => {
        const api = {
            environments: {
                getActiveEnvironmentPath: () => ({ path: '/usr/bin/python3.12' }),
                resolveEnvironment: async () => undefined,
            },
        };
        assert.deepEqual(await interpreterFromApi(api), ['/usr/bin/python3.12']);
    });

    it('uses the older settings API', async () => {
        const details = () => ({ execCommand: ['conda', 'run', 'python'] });
        const api = { settings: { getExecutionDetails: details } };
        assert.deepEqual(await interpreterFromApi(api), ['conda', 'run', 'python']);
    });

    it('answers undefined for missing, odd or throwing APIs', async () => {
        for (const api of [
            undefined, null, 42, {}, { environments: {} },
            { settings: { getExecutionDetails: () => ({ execCommand: [1] }) } },
            { environments: { getActiveEnvironmentPath: () => { throw new Error('boom'); } } },
        ]) {
            assert.equal(await interpreterFromApi(api), undefined, JSON.stringify(api));
        }
    });
});

describe('onInterpreterChange', () => {
    it('subscribes through whichever event exists', () => {
        let subscribed = 0;
        const event = () => { subscribed += 1; return { dispose: () => undefined }; };
        const newer = { environments: { onDidChangeActiveEnvironmentPath: event } };
        const older = { settings: { onDidChangeExecutionDetails: event } };
        assert.ok(onInterpreterChange(newer, () => {}));
        assert.ok(onInterpreterChange(older, () => {}));
        assert.equal(subscribed, 2);
        assert.equal(onInterpreterChange(undefined, () => {}), undefined);
    });
});
