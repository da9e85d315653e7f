/**
 * Follow the server's `$/progress` reports and say what the status bar shows.
 *
 * Pure state: the client middleware feeds begin/report/end values in, the
 * status bar item renders `text()`. Several progress tokens may overlap (the
 * server may index and re-check dependents at once); the newest one is shown.
 */

export interface ProgressValue {
    kind: 'begin' | 'report' | 'end';
    title?: string;
    message?: string;
    percentage?: number;
}

interface Active {
    title: string;
    message?: string;
    percentage?: number;
}

export class ProgressTracker {
    private readonly active = new Map<string, Active>();
    private ended = 0;

    update(token: string | number, value: ProgressValue): void {
        const key = String(token);
        if (value.kind === 'end') {
            if (this.active.delete(key)) {
                this.ended += 1;
            }
            return;
        }
        const previous = this.active.get(key);
        // A report without begin (missed begin) still counts as work in progress.
        const entry: Active = previous ?? { title: value.title ?? 'fmperf: working' };
        if (value.kind === 'begin') {
            entry.title = value.title ?? entry.title;
        }
        entry.message = value.message ?? entry.message;
        entry.percentage = value.percentage ?? entry.percentage;
        // Re-insert so the newest token is last in iteration order.
        this.active.delete(key);
        this.active.set(key, entry);
    }

    get busy(): boolean {
        return this.active.size > 0;
    }

    /** How many progress runs have finished; the first end means indexing is done. */
    get finishedCount(): number {
        return this.ended;
    }

    /** e.g. "fmperf: indexing 40% (12/30 files)"; undefined when idle. */
    text(): string | undefined {
        const entries = [...this.active.values()];
        const last = entries[entries.length - 1];
        if (last === undefined) {
            return undefined;
        }
        const parts = [last.title];
        if (last.percentage !== undefined) {
            parts.push(`${Math.round(last.percentage)}%`);
        }
        if (last.message) {
            parts.push(`(${last.message})`);
        }
        return parts.join(' ');
    }

    clear(): void {
        this.active.clear();
    }
}
