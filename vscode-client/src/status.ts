/**
 * A status bar item while the server starts or indexes, and after it fails.
 *
 * It is hidden while the server runs idle: diagnostics speak for themselves.
 * In the error state it stays, so a failure remains visible even with
 * notifications off; a click opens the logs.
 */
import * as vscode from 'vscode';
import { ProgressTracker, type ProgressValue } from './progress';

export class Status implements vscode.Disposable {
    private readonly item: vscode.StatusBarItem;
    private readonly progress = new ProgressTracker();
    private starting = false;

    constructor() {
        this.item = vscode.window.createStatusBarItem(
            'fmperf.status', vscode.StatusBarAlignment.Left, 0,
        );
        this.item.name = 'fmperf';
        this.item.command = 'fmperf.showLogs';
    }

    /** The server process is being started (interpreter probe, initialize). */
    setStarting(what = 'starting'): void {
        this.starting = true;
        this.progress.clear();
        this.render(`$(sync~spin) fmperf: ${what}`, 'fmperf server is starting');
    }

    /** The client is ready; stay visible only while progress is reported. */
    setRunning(): void {
        this.starting = false;
        this.refresh();
    }

    onProgress(token: string | number, value: ProgressValue): void {
        this.progress.update(token, value);
        this.refresh();
    }

    setError(message: string): void {
        this.starting = false;
        this.progress.clear();
        this.item.text = '$(error) fmperf';
        this.item.tooltip = `${message}\nClick to show the fmperf logs.`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        this.item.show();
    }

    setStopped(): void {
        this.starting = false;
        this.progress.clear();
        this.item.hide();
    }

    dispose(): void {
        this.item.dispose();
    }

    private refresh(): void {
        const text = this.progress.text();
        if (text !== undefined) {
            this.render(`$(sync~spin) ${text}`, 'fmperf is indexing the workspace');
        } else if (!this.starting) {
            this.item.hide();
        }
    }

    private render(text: string, tooltip: string): void {
        this.item.text = text;
        this.item.tooltip = `${tooltip}\nClick to show the fmperf logs.`;
        this.item.backgroundColor = undefined;
        this.item.show();
    }
}
