/**
 * Find a Python that can run the fmperf server.
 *
 * No VS Code imports: candidates and the probe are passed in, so the order of
 * preference and every failure message are unit-tested. The real probe
 * (`probeInterpreter`) runs the candidate once and asks it for its version,
 * site-packages and whether fmperf is importable, all in one process start.
 */
import { spawn } from 'node:child_process';

export const MIN_VERSION: readonly [number, number] = [3, 10];

export type CandidateSource = 'setting' | 'python-extension' | 'PATH';

export interface Candidate {
    /** Executable and leading arguments, e.g. ["/venv/bin/python"] or ["py", "-3"]. */
    command: string[];
    source: CandidateSource;
}

export interface ProbeInfo {
    executable: string;
    version: [number, number];
    sitePackages: string[];
    hasFmperf: boolean;
}

export type ProbeResult = { ok: true; info: ProbeInfo } | { ok: false; reason: string };
export type Probe = (command: string[]) => Promise<ProbeResult>;

export interface Resolved {
    command: string[];
    source: CandidateSource;
    info: ProbeInfo;
}

export type Resolution =
    | { ok: true; interpreter: Resolved; notes: string[] }
    | { ok: false; message: string; notes: string[] };

/**
 * Candidates in order of preference: the setting, the Python extension, PATH.
 *
 * An explicit setting is the only candidate when present: silently running a
 * different Python than the one the user named would hide their mistake.
 */
export function candidates(
    setting: string[], fromPythonExtension: string[] | undefined,
    platform: NodeJS.Platform = process.platform,
): Candidate[] {
    if (setting.length > 0) {
        return [{ command: setting, source: 'setting' }];
    }
    const out: Candidate[] = [];
    if (fromPythonExtension !== undefined && fromPythonExtension.length > 0) {
        out.push({ command: fromPythonExtension, source: 'python-extension' });
    }
    const onPath = platform === 'win32' ? [['py', '-3'], ['python']] : [['python3'], ['python']];
    for (const command of onPath) {
        out.push({ command, source: 'PATH' });
    }
    return out;
}

/**
 * Probe candidates in order and take the first Python >= 3.10.
 *
 * `needFmperf` is set for importStrategy "fromEnvironment": then the chosen
 * interpreter must also be able to import fmperf_ls. The failure message names
 * every candidate tried and the setting that fixes it, in one sentence block,
 * so it can be shown once instead of one pop-up per candidate.
 */
export async function resolveInterpreter(
    list: Candidate[], probe: Probe, needFmperf: boolean,
): Promise<Resolution> {
    const notes: string[] = [];
    for (const candidate of list) {
        const label = describe(candidate);
        const result = await probe(candidate.command);
        if (!result.ok) {
            notes.push(`${label}: ${result.reason}`);
        } else if (!isRecentEnough(result.info.version)) {
            notes.push(`${label}: Python ${result.info.version.join('.')} is too old`);
        } else if (needFmperf && !result.info.hasFmperf) {
            // The environment was chosen on purpose; another one would not have fmperf either.
            const message = `fmperf is not installed in ${result.info.executable} `
                + '(fmperf.importStrategy is "fromEnvironment"). Install it there with '
                + '"python -m pip install fmperf", or set fmperf.importStrategy to "useBundled".';
            return { ok: false, message, notes };
        } else {
            return { ok: true, interpreter: { ...candidate, info: result.info }, notes };
        }
    }
    return { ok: false, message: noneFitsMessage(list, notes), notes };
}

export function isRecentEnough(version: readonly number[]): boolean {
    const [major, minor] = version;
    return major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]);
}

function describe(candidate: Candidate): string {
    const where = {
        'setting': 'fmperf.interpreter',
        'python-extension': 'Python extension',
        'PATH': 'PATH',
    }[candidate.source];
    return `${candidate.command.join(' ')} (${where})`;
}

function noneFitsMessage(list: Candidate[], notes: string[]): string {
    const need = `fmperf needs Python ${MIN_VERSION.join('.')} or newer`;
    const tried = notes.length > 0 ? ` Tried: ${notes.join('; ')}.` : '';
    const fromSetting = list.length === 1 && list[0].source === 'setting';
    const fix = fromSetting
        ? ' Fix fmperf.interpreter, or clear it to use python3 on PATH.'
        : ' Install Python 3.10+ or set fmperf.interpreter to its path.';
    return `${need}.${tried}${fix}`;
}

/**
 * Probe script, valid in Python 2 as well, so an old interpreter still reports
 * its version (and gets a "too old" message rather than "not a Python").
 */
export const PROBE_SCRIPT = [
    'import json, sys',
    'info = {"version": list(sys.version_info[:2]), "executable": sys.executable}',
    'try:',
    '    import site, sysconfig',
    '    paths = [sysconfig.get_paths()["purelib"]]',
    '    if hasattr(site, "getsitepackages"):',
    '        paths += list(site.getsitepackages())',
    '    info["sitePackages"] = paths',
    '    import importlib.util',
    '    info["hasFmperf"] = importlib.util.find_spec("fmperf_ls") is not None',
    'except Exception as exc:',
    '    info["error"] = repr(exc)',
    'print("FMPERF_PROBE " + json.dumps(info))',
].join('\n');

export interface ProbeOptions {
    /** Where to run it; never the workspace, whose files would shadow the stdlib. */
    cwd: string;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
}

/** Run a candidate once with PROBE_SCRIPT. Never throws; failures become reasons. */
export function probeInterpreter(command: string[], options: ProbeOptions): Promise<ProbeResult> {
    return new Promise((resolve) => {
        const [exe, ...rest] = command;
        let stdout = '';
        let stderr = '';
        let settled = false;
        const finish = (result: ProbeResult): void => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                resolve(result);
            }
        };
        const child = spawn(exe, [...rest, '-c', PROBE_SCRIPT], {
            cwd: options.cwd,
            env: options.env ?? process.env,
            stdio: ['ignore', 'pipe', 'pipe'],
            windowsHide: true,
        });
        const timeoutMs = options.timeoutMs ?? 15000;
        const timer = setTimeout(() => {
            child.kill();
            finish({ ok: false, reason: `no answer within ${timeoutMs / 1000} s` });
        }, timeoutMs);
        child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
        child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
        child.on('error', (error: NodeJS.ErrnoException) => {
            const reason = error.code === 'ENOENT' ? 'not found' : `cannot run (${error.message})`;
            finish({ ok: false, reason });
        });
        child.on('close', (code) => finish(parseProbeOutput(stdout, stderr, code)));
    });
}

/** Turn the probe's output into a result; exported for tests. */
export function parseProbeOutput(
    stdout: string, stderr: string, code: number | null,
): ProbeResult {
    const line = stdout.split(/\r?\n/).find((text) => text.startsWith('FMPERF_PROBE '));
    if (line === undefined) {
        const detail = lastLine(stderr) || `exit code ${code}`;
        return { ok: false, reason: `not a usable Python (${detail})` };
    }
    try {
        const raw = JSON.parse(line.slice('FMPERF_PROBE '.length)) as Record<string, unknown>;
        const version = raw.version as number[];
        const sitePackages = Array.isArray(raw.sitePackages)
            ? unique((raw.sitePackages as unknown[]).filter(isString))
            : [];
        const info: ProbeInfo = {
            executable: isString(raw.executable) && raw.executable !== '' ? raw.executable : '',
            version: [Number(version[0]), Number(version[1])],
            sitePackages,
            hasFmperf: raw.hasFmperf === true,
        };
        return { ok: true, info };
    } catch {
        return { ok: false, reason: 'not a usable Python (unreadable probe output)' };
    }
}

function lastLine(text: string): string {
    const lines = text.trim().split(/\r?\n/);
    return lines[lines.length - 1] ?? '';
}

function unique(items: string[]): string[] {
    return [...new Set(items)];
}

function isString(value: unknown): value is string {
    return typeof value === 'string';
}
