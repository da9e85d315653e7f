/**
 * Entry point: wire commands and events to the server; all logic lives elsewhere.
 *
 * Activated by opening a Python file or by one of the commands. Activation
 * never waits for the server: the Python extension's API and the interpreter
 * probe can take seconds, and VS Code should not show a slow extension for it.
 */
import * as vscode from 'vscode';
import { Log } from './log';
import { onInterpreterChange, pythonExtensionApi } from './pythonApi';
import { FmperfServer } from './server';
import { Status } from './status';

// Several settings usually change together (a settings.json save, a profile switch).
const SETTINGS_DEBOUNCE_MS = 500;

let server: FmperfServer | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const log = new Log();
    const status = new Status();
    server = new FmperfServer(context, log, status);
    const fmperf = server;
    context.subscriptions.push(log, status, fmperf);

    context.subscriptions.push(
        vscode.commands.registerCommand('fmperf.restart', () =>
            fmperf.restart('requested by the user', true)),
        vscode.commands.registerCommand('fmperf.showLogs', () => log.show()),
        onSettingsChange(() => void fmperf.onSettingsChanged()),
        vscode.workspace.onDidGrantWorkspaceTrust(() =>
            void fmperf.restart('the workspace is now trusted')),
    );

    void (async () => {
        const api = await pythonExtensionApi(vscode.extensions);
        log.info(api === undefined
            ? 'Python extension not available; using fmperf.interpreter or python3 on PATH'
            : 'Python extension found; using its environment unless fmperf.interpreter is set');
        fmperf.setPythonApi(api);
        const subscription = onInterpreterChange(
            api, debounce(() => void fmperf.onPythonInterpreterChanged(), SETTINGS_DEBOUNCE_MS),
        );
        if (subscription !== undefined) {
            context.subscriptions.push({ dispose: () => subscription.dispose() });
        }
        await fmperf.start();
    })();
}

export async function deactivate(): Promise<void> {
    await server?.stop();
    server = undefined;
}

function onSettingsChange(callback: () => void): vscode.Disposable {
    const debounced = debounce(callback, SETTINGS_DEBOUNCE_MS);
    return vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('fmperf')) {
            debounced();
        }
    });
}

function debounce(callback: () => void, ms: number): () => void {
    let timer: NodeJS.Timeout | undefined;
    return () => {
        clearTimeout(timer);
        timer = setTimeout(callback, ms);
    };
}
