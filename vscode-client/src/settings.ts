/**
 * Typed `fmperf.*` settings with defaults.
 *
 * Pure: the caller hands in a getter over the VS Code configuration, so the
 * parsing, validation and change classification run under `node --test`
 * without VS Code. A bad value falls back to its default with one message,
 * never an exception: a typo in settings.json must not keep the server down.
 */

export type ImportStrategy = 'useBundled' | 'fromEnvironment';
export type NotificationLevel = 'off' | 'onError' | 'onWarning' | 'always';
export type Severity = 'error' | 'warning' | 'information' | 'hint';
export type NoticeKind = 'error' | 'warning' | 'info';

export interface Settings {
    interpreter: string[];
    importStrategy: ImportStrategy;
    path: string[];
    args: string[];
    select: string[];
    ignore: string[];
    severity: Record<string, Severity>;
    showNotifications: NotificationLevel;
}

export const DEFAULTS: Readonly<Settings> = Object.freeze({
    interpreter: [],
    importStrategy: 'useBundled',
    path: [],
    args: [],
    select: [],
    ignore: [],
    severity: {},
    showNotifications: 'onError',
});

/** What the server receives as initializationOptions and in didChangeConfiguration. */
export interface ServerSettings {
    select: string[];
    ignore: string[];
    severity: Record<string, Severity>;
    sitePackages: string[];
    interpreter?: string;
}

export interface Parsed {
    settings: Settings;
    /** One line per rejected value, for the log (and one notification at most). */
    problems: string[];
}

/** Values for `${workspaceFolder}`, `${userHome}` and `${env:NAME}` in paths. */
export interface Variables {
    workspaceFolder?: string;
    userHome?: string;
    env: Record<string, string | undefined>;
}

const IMPORT_STRATEGIES: readonly string[] = ['useBundled', 'fromEnvironment'];
const NOTIFICATION_LEVELS: readonly string[] = ['off', 'onError', 'onWarning', 'always'];
const SEVERITIES: readonly string[] = ['error', 'warning', 'information', 'hint'];
// A rule code or a prefix of one: "FMP", "FMP1", "FMP101".
const CODE_PATTERN = /^[A-Z]+[0-9]*$/;

/** Read every `fmperf.*` setting through `get` (a WorkspaceConfiguration.get). */
export function parseSettings(get: (key: string) => unknown, vars?: Variables): Parsed {
    const problems: string[] = [];
    const expand = (items: string[]): string[] =>
        vars === undefined ? items : items.map((item) => expandVariables(item, vars));
    const settings: Settings = {
        interpreter: expand(stringList(get('interpreter'), 'interpreter', problems)),
        importStrategy: oneOf(
            get('importStrategy'), IMPORT_STRATEGIES, DEFAULTS.importStrategy,
            'importStrategy', problems,
        ) as ImportStrategy,
        path: expand(stringList(get('path'), 'path', problems)),
        args: expand(stringList(get('args'), 'args', problems)),
        select: codeList(get('select'), 'select', problems),
        ignore: codeList(get('ignore'), 'ignore', problems),
        severity: severityMap(get('severity'), problems),
        showNotifications: oneOf(
            get('showNotifications'), NOTIFICATION_LEVELS, DEFAULTS.showNotifications,
            'showNotifications', problems,
        ) as NotificationLevel,
    };
    return { settings, problems };
}

/**
 * Narrow settings for an untrusted workspace: the bundled server only.
 *
 * VS Code already drops workspace-level values of the restricted settings
 * (package.json `restrictedConfigurations`); this also refuses a user-level
 * `path` and `fromEnvironment`, because both would run code chosen for this
 * workspace rather than the code shipped in the extension.
 */
export function restrictForUntrusted(settings: Settings): Settings {
    return { ...settings, importStrategy: 'useBundled', path: [] };
}

/** The part of the settings the server understands, plus what the client found out. */
export function serverSettings(
    settings: Settings, sitePackages: string[], interpreter?: string,
): ServerSettings {
    const out: ServerSettings = {
        select: [...settings.select],
        ignore: [...settings.ignore],
        severity: { ...settings.severity },
        sitePackages: [...sitePackages],
    };
    if (interpreter !== undefined) {
        out.interpreter = interpreter;
    }
    return out;
}

export type ChangeKind = 'none' | 'reconfigure' | 'restart';

/**
 * Decide what a settings change needs.
 *
 * Anything that changes the server command restarts the process; rule
 * selection and severity reach the running server by didChangeConfiguration,
 * which is much cheaper than re-indexing the workspace.
 */
export function classifyChange(before: Settings, after: Settings): ChangeKind {
    const restartKeys: (keyof Settings)[] = ['interpreter', 'importStrategy', 'path', 'args'];
    if (restartKeys.some((key) => !sameValue(before[key], after[key]))) {
        return 'restart';
    }
    const reconfigureKeys: (keyof Settings)[] = ['select', 'ignore', 'severity'];
    if (reconfigureKeys.some((key) => !sameValue(before[key], after[key]))) {
        return 'reconfigure';
    }
    return 'none';
}

/** Substitute `${workspaceFolder}`, `${userHome}`, `${env:NAME}`; leave unknowns as they are. */
export function expandVariables(value: string, vars: Variables): string {
    return value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
        if (name === 'workspaceFolder' && vars.workspaceFolder !== undefined) {
            return vars.workspaceFolder;
        }
        if (name === 'userHome' && vars.userHome !== undefined) {
            return vars.userHome;
        }
        if (name.startsWith('env:')) {
            return vars.env[name.slice(4)] ?? '';
        }
        return whole;
    });
}

function stringList(value: unknown, key: string, problems: string[]): string[] {
    if (value === undefined || value === null) {
        return [];
    }
    // A single string is what most people type for a path; accept it.
    if (typeof value === 'string') {
        return value.trim() === '' ? [] : [value];
    }
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
        return value.filter((item) => item.trim() !== '');
    }
    problems.push(`fmperf.${key} must be a list of strings; using the default []`);
    return [];
}

function codeList(value: unknown, key: string, problems: string[]): string[] {
    const items = stringList(value, key, problems);
    const good = items.map((item) => item.trim().toUpperCase()).filter((item) => {
        if (CODE_PATTERN.test(item)) {
            return true;
        }
        problems.push(`fmperf.${key}: "${item}" is not a rule code such as FMP101; ignored`);
        return false;
    });
    return [...new Set(good)];
}

function severityMap(value: unknown, problems: string[]): Record<string, Severity> {
    if (value === undefined || value === null) {
        return {};
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push('fmperf.severity must be an object such as {"FMP101": "error"}; ignored');
        return {};
    }
    const out: Record<string, Severity> = {};
    for (const [rawCode, level] of Object.entries(value as Record<string, unknown>)) {
        const code = rawCode.trim().toUpperCase();
        if (!CODE_PATTERN.test(code)) {
            problems.push(`fmperf.severity: "${rawCode}" is not a rule code; ignored`);
        } else if (typeof level !== 'string' || !SEVERITIES.includes(level)) {
            problems.push(
                `fmperf.severity.${code}: ${JSON.stringify(level)} is not one of `
                + `${SEVERITIES.join(', ')}; ignored`,
            );
        } else {
            out[code] = level as Severity;
        }
    }
    return out;
}

function oneOf(
    value: unknown, allowed: readonly string[], fallback: string, key: string,
    problems: string[],
): string {
    if (value === undefined || value === null) {
        return fallback;
    }
    if (typeof value === 'string' && allowed.includes(value)) {
        return value;
    }
    problems.push(
        `fmperf.${key}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}; `
        + `using "${fallback}"`,
    );
    return fallback;
}

function sameValue(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether fmperf.showNotifications lets a notice of this kind pop up. */
export function notificationAllowed(level: NotificationLevel, kind: NoticeKind): boolean {
    switch (level) {
        case 'off':
            return false;
        case 'onError':
            return kind === 'error';
        case 'onWarning':
            return kind !== 'info';
        case 'always':
            return true;
    }
}
