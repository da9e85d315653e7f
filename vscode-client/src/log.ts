/**
 * The one "fmperf" output channel, and notifications gated by a setting.
 *
 * Everything is written to the channel; pop-ups are rarer. Each notification
 * has a key and is shown at most once per key until `forgetShown()` (a user's
 * explicit restart): a server that fails repeatedly must never produce a
 * stream of pop-ups.
 */
import * as vscode from 'vscode';
import { notificationAllowed as allows } from './settings';
import type { NoticeKind, NotificationLevel } from './settings';

const SHOW_LOGS = 'Show Logs';
const OPEN_SETTINGS = 'Open Settings';

export class Log implements vscode.Disposable {
    readonly channel: vscode.LogOutputChannel;
    private level: NotificationLevel = 'onError';
    private readonly shown = new Set<string>();

    constructor() {
        this.channel = vscode.window.createOutputChannel('fmperf', { log: true });
    }

    setNotificationLevel(level: NotificationLevel): void {
        this.level = level;
    }

    info(message: string): void {
        this.channel.info(message);
    }

    warn(message: string): void {
        this.channel.warn(message);
    }

    error(message: string): void {
        this.channel.error(message);
    }

    show(): void {
        this.channel.show(true);
    }

    /**
     * Log `message` and, if the level allows and `key` was not shown yet,
     * show it with "Show Logs" (and "Open Settings" when `settingsQuery` is given).
     */
    notify(kind: NoticeKind, key: string, message: string, settingsQuery?: string): void {
        const write = { error: this.error, warning: this.warn, info: this.info }[kind];
        write.call(this, message);
        if (!allows(this.level, kind) || this.shown.has(key)) {
            return;
        }
        this.shown.add(key);
        const actions = settingsQuery === undefined ? [SHOW_LOGS] : [SHOW_LOGS, OPEN_SETTINGS];
        const show = {
            error: vscode.window.showErrorMessage,
            warning: vscode.window.showWarningMessage,
            info: vscode.window.showInformationMessage,
        }[kind];
        void Promise.resolve(show(message, ...actions)).then((choice) => {
            if (choice === SHOW_LOGS) {
                this.show();
            } else if (choice === OPEN_SETTINGS) {
                const openSettings = 'workbench.action.openSettings';
                void vscode.commands.executeCommand(openSettings, settingsQuery);
            }
        });
    }

    /** Show a server's window/showMessage according to fmperf.showNotifications. */
    serverMessage(kind: NoticeKind, message: string): void {
        const write = { error: this.error, warning: this.warn, info: this.info }[kind];
        write.call(this, `server: ${message}`);
        if (allows(this.level, kind)) {
            const show = {
                error: vscode.window.showErrorMessage,
                warning: vscode.window.showWarningMessage,
                info: vscode.window.showInformationMessage,
            }[kind];
            void show(`fmperf: ${message}`);
        }
    }

    /** Let notifications show again; used when the user restarts the server. */
    forgetShown(): void {
        this.shown.clear();
    }

    dispose(): void {
        this.channel.dispose();
    }
}
