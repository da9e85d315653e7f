/**
 * Start, reconfigure and restart the fmperf language server.
 *
 * One server per window. Every start/stop goes through one queue so a
 * settings change and a click on "Restart Server" cannot race. A server that
 * stops on its own is restarted by `Backoff`, not by vscode-languageclient:
 * the library's own restart shows a pop-up per crash and gives up with
 * another, while here the user is told once and the status bar keeps the state.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
    CloseAction,
    DidChangeConfigurationNotification,
    ErrorAction,
    LanguageClient,
    MessageType,
    RevealOutputChannelOn,
    ShowMessageNotification,
    TransportKind,
    type LanguageClientOptions,
    type ServerOptions,
} from 'vscode-languageclient/node';
import { Backoff } from './backoff';
import {
    candidates, probeInterpreter, resolveInterpreter, type Resolution,
} from './interpreter';
import { bundledLibsPath, planLaunch, type LaunchPlan } from './launch';
import type { Log } from './log';
import { interpreterFromApi } from './pythonApi';
import {
    classifyChange, parseSettings, restrictForUntrusted, serverSettings,
    type NoticeKind, type ServerSettings, type Settings,
} from './settings';
import type { Status } from './status';

/** One attempt to run the server; stale callbacks compare against the current run. */
interface Run {
    client: LanguageClient;
    startedAt: number;
    ended: boolean;
}

/**
 * A LanguageClient that never shows a pop-up of its own.
 *
 * The library forces an error notification when a server cannot be started
 * ("couldn't create connection to server"), which during a crash loop would
 * mean one pop-up per attempt. Its messages still go to the output channel;
 * FmperfServer tells the user once.
 */
class QuietLanguageClient extends LanguageClient {
    override error(message: string, data?: unknown, _showNotification?: boolean | 'force'): void {
        super.error(message, data, false);
    }
}

export class FmperfServer implements vscode.Disposable {
    private run: Run | undefined;
    private queue: Promise<void> = Promise.resolve();
    private readonly backoff = new Backoff();
    private restartTimer: NodeJS.Timeout | undefined;
    private settings: Settings | undefined;
    private forServer: ServerSettings | undefined;
    private pythonApi: unknown;

    constructor(
        private readonly context: vscode.ExtensionContext,
        private readonly log: Log,
        private readonly status: Status,
    ) {}

    /** Use the Python extension's API (may be undefined) for interpreter lookups. */
    setPythonApi(api: unknown): void {
        this.pythonApi = api;
    }

    start(): Promise<void> {
        return this.enqueue(() => this.doStart());
    }

    /** Stop and start again; `byUser` forgets earlier failures and shown notices. */
    restart(reason: string, byUser = false): Promise<void> {
        if (byUser) {
            this.backoff.reset();
            this.log.forgetShown();
        }
        this.log.info(`restarting the server: ${reason}`);
        return this.enqueue(async () => {
            await this.doStop();
            await this.doStart();
        });
    }

    /** Re-read settings and restart or reconfigure as little as the change needs. */
    onSettingsChanged(): Promise<void> {
        return this.enqueue(async () => {
            const next = this.readSettings();
            const previous = this.settings;
            this.log.setNotificationLevel(next.showNotifications);
            if (previous === undefined) {
                return;
            }
            const kind = classifyChange(previous, next);
            if (kind === 'restart') {
                this.log.info('server settings changed; restarting');
                // New settings deserve a fresh start, not the crash count of the old ones.
                this.backoff.reset();
                await this.doStop();
                await this.doStart();
            } else if (kind === 'reconfigure') {
                await this.reconfigure(next);
            }
        });
    }

    /** The Python extension switched environments; matters only without fmperf.interpreter. */
    onPythonInterpreterChanged(): Promise<void> {
        if (this.settings !== undefined && this.settings.interpreter.length > 0) {
            return Promise.resolve();
        }
        return this.restart('the Python extension selected another interpreter');
    }

    stop(): Promise<void> {
        return this.enqueue(() => this.doStop());
    }

    dispose(): void {
        void this.stop();
    }

    private enqueue(operation: () => Promise<void>): Promise<void> {
        const next = this.queue.then(operation, operation);
        // Keep the queue alive after a failure; the failure is logged where it happens.
        this.queue = next.catch((error: unknown) => {
            this.log.error(`unexpected: ${describeError(error)}`);
        });
        return this.queue;
    }

    private readSettings(): Settings {
        const folder = vscode.workspace.workspaceFolders?.[0];
        const config = vscode.workspace.getConfiguration('fmperf', folder?.uri);
        const vars = {
            workspaceFolder: folder?.uri.fsPath, userHome: os.homedir(), env: process.env,
        };
        const parsed = parseSettings((key) => config.get(key), vars);
        if (parsed.problems.length > 0) {
            for (const problem of parsed.problems) {
                this.log.warn(problem);
            }
            this.log.notify(
                'warning', 'settings', `Some fmperf settings were ignored: ${parsed.problems[0]}`,
                'fmperf',
            );
        }
        const { settings } = parsed;
        return vscode.workspace.isTrusted ? settings : restrictForUntrusted(settings);
    }

    private async doStart(): Promise<void> {
        if (this.run !== undefined) {
            // Never two servers for one window.
            await this.doStop();
        }
        clearTimeout(this.restartTimer);
        const settings = this.readSettings();
        this.settings = settings;
        this.log.setNotificationLevel(settings.showNotifications);
        this.status.setStarting();
        if (!vscode.workspace.isTrusted) {
            this.log.info('untrusted workspace: bundled server only, workspace settings ignored');
        }

        const resolution = await this.findInterpreter(settings);
        if (!resolution.ok && settings.path.length === 0) {
            this.fail(`no-python:${resolution.message}`, resolution.message, 'fmperf.interpreter');
            return;
        }
        const interpreter = resolution.ok ? resolution.interpreter : undefined;
        if (!this.bundleIsUsable(settings)) {
            return;
        }
        const plan = planLaunch({
            settings, interpreter, extensionPath: this.context.extensionPath, cwd: workingFolder(),
        });
        this.forServer = serverSettings(
            settings, interpreter?.info.sitePackages ?? [], interpreter?.info.executable,
        );
        await this.launch(plan);
    }

    private async findInterpreter(settings: Settings): Promise<Resolution> {
        // In an untrusted workspace the Python extension may point at the workspace's venv.
        const fromExtension = vscode.workspace.isTrusted && this.pythonApi !== undefined
            ? await interpreterFromApi(this.pythonApi, vscode.workspace.workspaceFolders?.[0]?.uri)
            : undefined;
        const list = candidates(settings.interpreter, fromExtension);
        const needFmperf = settings.importStrategy === 'fromEnvironment'
            && settings.path.length === 0;
        const probeCwd = path.join(this.context.extensionPath, 'bundled', 'tool');
        const resolution = await resolveInterpreter(
            list, (command) => probeInterpreter(command, { cwd: probeCwd }), needFmperf,
        );
        for (const note of resolution.notes) {
            this.log.info(`interpreter candidate skipped: ${note}`);
        }
        if (resolution.ok) {
            const { info, source } = resolution.interpreter;
            this.log.info(`interpreter: ${info.executable} (Python ${info.version.join('.')}, `
                + `from ${source}); site-packages: ${info.sitePackages.join(', ') || 'none'}`);
        }
        return resolution;
    }

    /** A .vsix always carries bundled/libs; a development checkout may lack them. */
    private bundleIsUsable(settings: Settings): boolean {
        if (settings.path.length > 0 || settings.importStrategy !== 'useBundled') {
            return true;
        }
        const libs = bundledLibsPath(this.context.extensionPath);
        if (fs.existsSync(path.join(libs, 'fmperf_ls'))) {
            return true;
        }
        this.fail(
            'no-bundle',
            `The bundled fmperf server is missing (${libs}). Reinstall the extension, or set `
            + 'fmperf.importStrategy to "fromEnvironment" with fmperf installed in your Python.',
            'fmperf.importStrategy',
        );
        return false;
    }

    private async launch(plan: LaunchPlan): Promise<void> {
        this.log.info(`starting ${plan.description}`);
        this.log.info(`command: ${[plan.command, ...plan.args].join(' ')} (cwd ${plan.cwd})`);
        const serverOptions: ServerOptions = {
            command: plan.command,
            args: plan.args,
            transport: TransportKind.stdio,
            options: { cwd: plan.cwd, env: { ...process.env, ...plan.env } },
        };
        const holder: { run?: Run } = {};
        const client = new QuietLanguageClient(
            'fmperf', 'fmperf', serverOptions, this.clientOptions(holder),
        );
        const run: Run = { client, startedAt: Date.now(), ended: false };
        holder.run = run;
        this.run = run;
        this.routeServerMessages(client);
        try {
            await run.client.start();
        } catch (error) {
            this.onUnexpectedEnd(run, `start failed: ${describeError(error)}`);
            return;
        }
        if (this.run === run && !run.ended) {
            this.log.info('server is running');
            this.status.setRunning();
        }
    }

    private clientOptions(holder: { run?: Run }): LanguageClientOptions {
        const folder = vscode.workspace.workspaceFolders?.[0];
        return {
            documentSelector: [
                { scheme: 'file', language: 'python' },
                { scheme: 'untitled', language: 'python' },
            ],
            outputChannel: this.log.channel,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: this.forServer,
            workspaceFolder: folder,
            // No static file watchers: the server registers its own (*.py, pyproject.toml).
            // Failures are counted and reported by onUnexpectedEnd, once; returning
            // "handled" keeps the library from showing its own pop-up per crash.
            errorHandler: {
                error: () => ({ action: ErrorAction.Continue, handled: true }),
                closed: () => {
                    if (holder.run !== undefined) {
                        this.onUnexpectedEnd(holder.run, 'the server process exited');
                    }
                    return { action: CloseAction.DoNotRestart, handled: true };
                },
            },
            initializationFailedHandler: (error) => {
                this.log.error(`server initialization failed: ${describeError(error)}`);
                return false;
            },
            middleware: {
                handleWorkDoneProgress: (token, params) => {
                    // Not forwarded to the library's own window progress: the status item
                    // shows it, and two spinners for one job would be noise.
                    this.status.onProgress(token, params);
                },
                workspace: {
                    configuration: async (params, token, next) => {
                        // Answer "fmperf" with what the server understands, not raw settings.
                        const answers = await next(params, token);
                        if (!Array.isArray(answers)) {
                            return answers;
                        }
                        return params.items.map((item, index) => item.section === 'fmperf'
                            ? this.forServer ?? null
                            : answers[index]);
                    },
                },
            },
        };
    }

    /** window/showMessage goes through fmperf.showNotifications like our own notices. */
    private routeServerMessages(client: LanguageClient): void {
        client.onNotification(ShowMessageNotification.type, (params) => {
            const kind: NoticeKind = params.type === MessageType.Error ? 'error'
                : params.type === MessageType.Warning ? 'warning' : 'info';
            this.log.serverMessage(kind, params.message);
        });
    }

    private async reconfigure(next: Settings): Promise<void> {
        const sitePackages = this.forServer?.sitePackages ?? [];
        this.settings = next;
        this.forServer = serverSettings(next, sitePackages, this.forServer?.interpreter);
        const run = this.run;
        if (run === undefined || run.ended || !run.client.isRunning()) {
            return;
        }
        this.log.info('sending changed rule settings to the server');
        await run.client.sendNotification(DidChangeConfigurationNotification.type, {
            settings: { fmperf: this.forServer },
        });
    }

    /** A run ended without us stopping it: schedule a restart, or give up loudly once. */
    private onUnexpectedEnd(run: Run, why: string): void {
        if (run.ended || this.run !== run) {
            return;
        }
        run.ended = true;
        this.run = undefined;
        // After the library has finished its own close handling (it awaits this handler).
        setTimeout(() => { void disposeQuietly(run.client); }, 0);
        const decision = this.backoff.onFailure(Date.now() - run.startedAt);
        if (!decision.restart) {
            this.fail(
                'crash-loop',
                `The fmperf server keeps stopping (${why}); it will not be restarted `
                + 'automatically. See the logs, then run "fmperf: Restart Server".',
            );
            return;
        }
        const seconds = decision.delayMs / 1000;
        this.log.notify(
            'error', 'restarting',
            `The fmperf server stopped (${why}); restarting in ${seconds} s `
            + `(attempt ${decision.attempt}). Further restarts are only logged.`,
        );
        this.status.setStarting(`restarting in ${seconds} s`);
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => { void this.start(); }, decision.delayMs);
    }

    /** Show a lasting failure: red status item, log, and one notification per key. */
    private fail(key: string, message: string, settingsQuery?: string): void {
        this.status.setError(message);
        this.log.notify('error', key, message, settingsQuery);
    }

    private async doStop(): Promise<void> {
        clearTimeout(this.restartTimer);
        const run = this.run;
        this.run = undefined;
        this.status.setStopped();
        if (run === undefined || run.ended) {
            return;
        }
        run.ended = true;
        await disposeQuietly(run.client);
    }
}

async function disposeQuietly(client: LanguageClient): Promise<void> {
    try {
        if (client.needsStop()) {
            await client.stop(2000);
        }
    } catch {
        // Stopping a client whose process already died throws; nothing is left to stop.
    }
    try {
        await client.dispose(0);
    } catch {
        // Same as above.
    }
}

/** The server's working folder: the first workspace folder, else the temp folder. */
function workingFolder(): string {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder?.uri.scheme === 'file' ? folder.uri.fsPath : os.tmpdir();
}

function describeError(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
