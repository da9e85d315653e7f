import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../src/backoff';

const options = { firstDelayMs: 1000, maxDelayMs: 4000, stableMs: 60000, maxQuickFailures: 4 };

describe('Backoff', () => {
    it('doubles the delay up to the cap, then gives up', () => {
        const backoff = new Backoff(options);
        const delays = [1, 2, 3, 4].map(() => backoff.onFailure(100));
        assert.deepEqual(delays.map((d) => d.restart && d.delayMs), [1000, 2000, 4000, 4000]);
        assert.deepEqual(backoff.onFailure(100), { restart: false });
        assert.deepEqual(backoff.onFailure(100), { restart: false });
    });

    it('forgives failures after a run that stayed up', () => {
        const backoff = new Backoff(options);
        backoff.onFailure(100);
        backoff.onFailure(100);
        assert.deepEqual(backoff.onFailure(120000), { restart: true, delayMs: 1000, attempt: 1 });
    });

    it('starts afresh after reset', () => {
        const backoff = new Backoff(options);
        for (let i = 0; i < 5; i++) {
            backoff.onFailure(10);
        }
        backoff.reset();
        assert.equal(backoff.onFailure(10).restart, true);
    });
});
