/**
 * Turn settings and the chosen interpreter into the server's command line.
 *
 * The Python side is started through `bundled/tool/launch_server.py`, run as a
 * file rather than with `-m`: `python -m` puts the current directory (the
 * user's workspace) first on sys.path, so a workspace holding its own
 * `fmperf_ls/` or a `json.py` would be imported in place of ours. The
 * launcher puts `bundled/libs` first for "useBundled" and runs
 * `fmperf_ls.server` as `__main__`, which is what `-m fmperf_ls.server` does.
 */
import * as path from 'node:path';
import type { Resolved } from './interpreter';
import type { Settings } from './settings';

export interface LaunchPlan {
    command: string;
    args: string[];
    env: Record<string, string>;
    cwd: string;
    /** One line for the log: what runs and why. */
    description: string;
}

export interface LaunchInput {
    settings: Settings;
    /** Required unless `settings.path` is set. */
    interpreter?: Resolved;
    extensionPath: string;
    cwd: string;
}

export function launcherPath(extensionPath: string): string {
    return path.join(extensionPath, 'bundled', 'tool', 'launch_server.py');
}

export function bundledLibsPath(extensionPath: string): string {
    return path.join(extensionPath, 'bundled', 'libs');
}

export function planLaunch(input: LaunchInput): LaunchPlan {
    const { settings, interpreter, extensionPath, cwd } = input;
    if (settings.path.length > 0) {
        const [command, ...rest] = settings.path;
        return {
            command,
            args: [...rest, ...settings.args],
            env: {},
            cwd,
            description: `fmperf.path: ${settings.path.join(' ')}`,
        };
    }
    if (interpreter === undefined) {
        throw new Error('planLaunch needs an interpreter when fmperf.path is empty');
    }
    // A plain executable is replaced by the path the probe reported, so the server
    // runs on exactly the Python that was checked (no PATH lookup, no pyenv shim).
    const single = interpreter.command.length === 1 && interpreter.info.executable !== '';
    const [command, ...interpreterArgs] = single
        ? [interpreter.info.executable]
        : interpreter.command;
    const env: Record<string, string> = {
        FMPERF_IMPORT_STRATEGY: settings.importStrategy,
        FMPERF_BUNDLED_LIBS: bundledLibsPath(extensionPath),
        // Tracebacks reach the output channel as they happen, not at exit.
        PYTHONUNBUFFERED: '1',
    };
    const version = interpreter.info.version.join('.');
    return {
        command,
        args: [...interpreterArgs, launcherPath(extensionPath), ...settings.args],
        env,
        cwd,
        description: `${settings.importStrategy} server on ${command}`
            + ` (Python ${version}, from ${interpreter.source})`,
    };
}
