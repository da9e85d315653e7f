/**
 * When to restart a server that stopped on its own.
 *
 * A server that crashes at start would otherwise be restarted in a tight loop,
 * each time with a pop-up. Delays double from `firstDelayMs` up to `maxDelayMs`;
 * after `maxQuickFailures` runs in a row that each lived less than `stableMs`,
 * restarting stops until the user asks (fmperf: Restart Server). A run that
 * stayed up for `stableMs` forgives earlier failures: one crash a day is not a
 * crash loop.
 */

export interface BackoffOptions {
    firstDelayMs: number;
    maxDelayMs: number;
    stableMs: number;
    maxQuickFailures: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
    firstDelayMs: 1000,
    maxDelayMs: 30000,
    stableMs: 60000,
    maxQuickFailures: 5,
};

export type Decision = { restart: true; delayMs: number; attempt: number } | { restart: false };

export class Backoff {
    private quickFailures = 0;

    constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

    /** Call when a run ends unexpectedly, with how long it was up. */
    onFailure(uptimeMs: number): Decision {
        if (uptimeMs >= this.options.stableMs) {
            this.quickFailures = 0;
        }
        this.quickFailures += 1;
        if (this.quickFailures > this.options.maxQuickFailures) {
            return { restart: false };
        }
        const exponent = this.quickFailures - 1;
        const { firstDelayMs, maxDelayMs } = this.options;
        const delayMs = Math.min(firstDelayMs * 2 ** exponent, maxDelayMs);
        return { restart: true, delayMs, attempt: this.quickFailures };
    }

    /** A restart the user asked for starts counting afresh. */
    reset(): void {
        this.quickFailures = 0;
    }
}
