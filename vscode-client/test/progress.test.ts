import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressTracker } from '../src/progress';

describe('ProgressTracker', () => {
    it('shows title, percentage and message until the end', () => {
        const tracker = new ProgressTracker();
        assert.equal(tracker.text(), undefined);
        tracker.update('t1', { kind: 'begin', title: 'fmperf: indexing', percentage: 0 });
        assert.equal(tracker.text(), 'fmperf: indexing 0%');
        tracker.update('t1', { kind: 'report', percentage: 40.4, message: '12/30 files' });
        assert.equal(tracker.text(), 'fmperf: indexing 40% (12/30 files)');
        assert.equal(tracker.busy, true);
        tracker.update('t1', { kind: 'end' });
        assert.equal(tracker.text(), undefined);
        assert.equal(tracker.finishedCount, 1);
    });

    it('shows the newest of overlapping progress runs', () => {
        const tracker = new ProgressTracker();
        tracker.update(1, { kind: 'begin', title: 'fmperf: indexing' });
        tracker.update(2, { kind: 'begin', title: 'fmperf: re-checking' });
        assert.equal(tracker.text(), 'fmperf: re-checking');
        tracker.update(2, { kind: 'end' });
        assert.equal(tracker.text(), 'fmperf: indexing');
    });

    it('copes with a report whose begin it never saw and an unknown end', () => {
        const tracker = new ProgressTracker();
        tracker.update('x', { kind: 'end' });
        assert.equal(tracker.finishedCount, 0);
        tracker.update('y', { kind: 'report', message: 'busy' });
        assert.equal(tracker.text(), 'fmperf: working (busy)');
    });
});
