/**
 * Ask the Python extension (ms-python.python) for its active interpreter.
 *
 * The extension is optional: it is not an extensionDependency, code-server
 * cannot install it, and its API has changed shape over the years. Everything
 * here treats the API as untyped data, checks each member before calling it,
 * and answers `undefined` rather than throwing or hanging.
 */
import type * as vscode from 'vscode';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The subset of `vscode.extensions` used here; tests pass a fake. */
export interface ExtensionLookup {
    getExtension(id: string): Pick<vscode.Extension<unknown>, 'isActive' | 'activate' | 'exports'>
        | undefined;
}

type Listener = (callback: () => void) => { dispose(): unknown };

/** Activate the Python extension if installed; undefined when absent or broken. */
export async function pythonExtensionApi(
    extensions: ExtensionLookup, timeoutMs = 10000,
): Promise<unknown> {
    const extension = extensions.getExtension(PYTHON_EXTENSION_ID);
    if (extension === undefined) {
        return undefined;
    }
    try {
        const activated = extension.isActive ? extension.exports : extension.activate();
        return await withTimeout(Promise.resolve(activated), timeoutMs);
    } catch {
        return undefined;
    }
}

/**
 * The interpreter command the Python extension uses for `resource`.
 *
 * Newer API: environments.getActiveEnvironmentPath + resolveEnvironment.
 * Older API: settings.getExecutionDetails(resource).execCommand.
 */
export async function interpreterFromApi(
    api: unknown, resource?: unknown, timeoutMs = 10000,
): Promise<string[] | undefined> {
    try {
        const environments = member(api, 'environments');
        if (hasFunction(environments, 'getActiveEnvironmentPath')) {
            const active: unknown = environments.getActiveEnvironmentPath(resource);
            const resolve = hasFunction(environments, 'resolveEnvironment')
                ? environments.resolveEnvironment(active)
                : undefined;
            const resolved = await withTimeout(Promise.resolve(resolve), timeoutMs);
            const uri = member(member(resolved, 'executable'), 'uri');
            const executable = member(uri, 'fsPath') ?? member(active, 'path');
            if (typeof executable === 'string' && executable !== '') {
                return [executable];
            }
        }
        const settings = member(api, 'settings');
        if (hasFunction(settings, 'getExecutionDetails')) {
            const details: unknown = settings.getExecutionDetails(resource);
            const command = member(details, 'execCommand');
            if (Array.isArray(command) && command.length > 0 && command.every(isString)) {
                return command;
            }
        }
    } catch {
        // A broken or changed API is the same as no Python extension.
    }
    return undefined;
}

/** Subscribe to interpreter changes in whichever API shape is present. */
export function onInterpreterChange(
    api: unknown, callback: () => void,
): { dispose(): unknown } | undefined {
    const candidates: [unknown, string][] = [
        [member(api, 'environments'), 'onDidChangeActiveEnvironmentPath'],
        [member(api, 'settings'), 'onDidChangeExecutionDetails'],
    ];
    for (const [owner, event] of candidates) {
        const subscribe = member(owner, event);
        if (typeof subscribe === 'function') {
            try {
                return (subscribe as Listener).call(owner, callback);
            } catch {
                return undefined;
            }
        }
    }
    return undefined;
}

function member(value: unknown, key: string): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
        return undefined;
    }
    return (value as Record<string, unknown>)[key];
}

function hasFunction<K extends string>(
    value: unknown, key: K,
): value is Record<K, (...args: unknown[]) => unknown> {
    return typeof member(value, key) === 'function';
}

function isString(value: unknown): value is string {
    return typeof value === 'string';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(undefined), ms);
        promise.then(
            (value) => { clearTimeout(timer); resolve(value); },
            (error: unknown) => { clearTimeout(timer); reject(error); },
        );
    });
}
