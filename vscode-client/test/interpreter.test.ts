import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
    candidates, isRecentEnough, parseProbeOutput, probeInterpreter, resolveInterpreter,
    type Probe, type ProbeInfo,
} from '../src/interpreter';

function info(version: [number, number], extra: Partial<ProbeInfo> = {}): ProbeInfo {
    const executable = `/py${version.join('')}`;
    return { executable, version, sitePackages: [], hasFmperf: false, ...extra };
}

/** A probe answering from a table keyed by the command's first word. */
function fakeProbe(table: Record<string, ProbeInfo | string>): Probe & { calls: string[] } {
    const calls: string[] = [];
    const probe = async (command: string[]) => {
        calls.push(command[0]);
        const answer = table[command[0]] ?? 'not found';
        return typeof answer === 'string'
            ? { ok: false as const, reason: answer }
            : { ok: true as const, info: answer };
    };
    return Object.assign(probe, { calls });
}

/** An executable shell script standing in for a Python. */
function fakePython(body: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'fmperf-py-'));
    const file = join(dir, 'python');
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
}

describe('candidates', () => {
    it('uses only the setting when it is set', () => {
        assert.deepEqual(candidates(['/venv/bin/python'], ['/ext/python'], 'linux'), [
            { command: ['/venv/bin/python'], source: 'setting' },
        ]);
    });

    it('prefers the Python extension, then python3 and python on PATH', () => {
        assert.deepEqual(candidates([], ['/ext/python'], 'linux').map((c) => c.command), [
            ['/ext/python'], ['python3'], ['python'],
        ]);
        const sources = candidates([], undefined, 'linux').map((c) => c.source);
        assert.deepEqual(sources, ['PATH', 'PATH']);
        assert.deepEqual(candidates([], [], 'win32')[0].command, ['py', '-3']);
    });
});

describe('isRecentEnough', () => {
    it('needs 3.10 or newer', () => {
        assert.equal(isRecentEnough([3, 9]), false);
        assert.equal(isRecentEnough([2, 7]), false);
        assert.equal(isRecentEnough([3, 10]), true);
        assert.equal(isRecentEnough([3, 14]), true);
        assert.equal(isRecentEnough([4, 0]), true);
    });
});

describe('resolveInterpreter', () => {
    it('takes the first Python that is recent enough', async () => {
        const probe = fakeProbe({ '/ext/python': info([3, 8]), python3: info([3, 12]) });
        const list = candidates([], ['/ext/python'], 'linux');
        const result = await resolveInterpreter(list, probe, false);
        assert.equal(result.ok, true);
        assert.ok(result.ok);
        assert.deepEqual(result.interpreter.command, ['python3']);
        assert.equal(result.interpreter.source, 'PATH');
        assert.match(result.notes[0], /Python 3\.8 is too old/);
        assert.deepEqual(probe.calls, ['/ext/python', 'python3']);
    });

    it('says once what it tried when nothing fits', async () => {
        const probe = fakeProbe({ python3: info([3, 9]) });
        const result = await resolveInterpreter(candidates([], undefined, 'linux'), probe, false);
        assert.equal(result.ok, false);
        assert.ok(!result.ok);
        assert.match(result.message, /needs Python 3\.10 or newer/);
        assert.match(result.message, /python3 \(PATH\): Python 3\.9 is too old/);
        assert.match(result.message, /python \(PATH\): not found/);
        assert.match(result.message, /set fmperf.interpreter/);
    });

    it('does not fall back from a bad fmperf.interpreter', async () => {
        const probe = fakeProbe({ python3: info([3, 12]) });
        const list = candidates(['/nope'], undefined, 'linux');
        const result = await resolveInterpreter(list, probe, false);
        assert.ok(!result.ok);
        assert.match(result.message, /\/nope \(fmperf.interpreter\): not found/);
        assert.match(result.message, /Fix fmperf.interpreter/);
        assert.deepEqual(probe.calls, ['/nope']);
    });

    it('requires fmperf in the environment for fromEnvironment', async () => {
        const without = fakeProbe({ python3: info([3, 11]) });
        const list = candidates([], undefined, 'linux');
        const missing = await resolveInterpreter(list, without, true);
        assert.ok(!missing.ok);
        assert.match(missing.message, /fmperf is not installed in \/py311/);
        assert.match(missing.message, /useBundled/);

        const withIt = fakeProbe({ python3: info([3, 11], { hasFmperf: true }) });
        const found = await resolveInterpreter(list, withIt, true);
        assert.equal(found.ok, true);
    });
});

describe('parseProbeOutput', () => {
    it('reads the probe line among other output', () => {
        const line = 'FMPERF_PROBE {"version": [3, 11], "executable": "/usr/bin/python3", '
            + '"sitePackages": ["/a", "/b", "/a"], "hasFmperf": true}';
        const result = parseProbeOutput(`warning: something\n${line}\n`, '', 0);
        assert.deepEqual(result, {
            ok: true,
            info: {
                executable: '/usr/bin/python3', version: [3, 11], sitePackages: ['/a', '/b'],
                hasFmperf: true,
            },
        });
    });

    it('explains a run without a probe line', () => {
        const result = parseProbeOutput('', 'Traceback...\nSyntaxError: invalid syntax\n', 1);
        const reason = 'not a usable Python (SyntaxError: invalid syntax)';
        assert.deepEqual(result, { ok: false, reason });
        assert.deepEqual(parseProbeOutput('', '', 127), {
            ok: false, reason: 'not a usable Python (exit code 127)',
        });
    });
});

describe('probeInterpreter (real processes)', () => {
    const cwd = tmpdir();

    it('asks a real python3 for version and site-packages', async () => {
        const result = await probeInterpreter(['python3'], { cwd });
        assert.ok(result.ok, JSON.stringify(result));
        assert.ok(isRecentEnough(result.info.version), `python3 is ${result.info.version}`);
        assert.ok(result.info.sitePackages.length > 0);
        assert.ok(result.info.sitePackages.some((p) => /(site|dist)-packages/.test(p)));
        assert.ok(result.info.executable.length > 0);
    });

    it('reports an executable that does not exist', async () => {
        const result = await probeInterpreter(['/definitely/not/python'], { cwd });
        assert.deepEqual(result, { ok: false, reason: 'not found' });
    });

    it('reports an old Python by its version', async () => {
        const old = fakePython(
            'echo \'FMPERF_PROBE {"version": [3, 8], "executable": "/old/python"}\'',
        );
        const probe: Probe = (command) => probeInterpreter(command, { cwd });
        const list = [{ command: [old], source: 'setting' as const }];
        const result = await resolveInterpreter(list, probe, false);
        assert.ok(!result.ok);
        assert.match(result.message, /Python 3\.8 is too old/);
    });

    it('reports a program that is not a Python', async () => {
        const broken = fakePython('echo "Unknown option: -c" >&2; exit 2');
        const result = await probeInterpreter([broken], { cwd });
        const reason = 'not a usable Python (Unknown option: -c)';
        assert.deepEqual(result, { ok: false, reason });
    });

    it('gives up on a Python that hangs', async () => {
        const hanging = fakePython('exec sleep 30');
        const result = await probeInterpreter([hanging], { cwd, timeoutMs: 300 });
        assert.deepEqual(result, { ok: false, reason: 'no answer within 0.3 s' });
    });
});
