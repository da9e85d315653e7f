/** package.json contributions agree with the code's defaults and names. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../src/settings';

const manifest = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8'));
const properties: Record<string, { default: unknown; markdownDescription?: string }> =
    manifest.contributes.configuration.properties;

describe('package.json', () => {
    it('documents every setting with the default the code uses', () => {
        for (const [key, value] of Object.entries(DEFAULTS)) {
            const property = properties[`fmperf.${key}`];
            assert.ok(property, `fmperf.${key} is not contributed`);
            assert.deepEqual(property.default, value, `default of fmperf.${key}`);
            assert.ok(property.markdownDescription, `fmperf.${key} has no description`);
        }
        assert.equal(properties['fmperf.trace.server'].default, 'off');
    });

    it('contributes the two commands and activates on Python files', () => {
        const commands = manifest.contributes.commands.map((c: { command: string }) => c.command);
        assert.deepEqual(commands.sort(), ['fmperf.restart', 'fmperf.showLogs']);
        assert.ok(manifest.activationEvents.includes('onLanguage:python'));
    });

    it('restricts the settings that choose what runs in untrusted workspaces', () => {
        const untrusted = manifest.capabilities.untrustedWorkspaces;
        assert.equal(untrusted.supported, 'limited');
        assert.deepEqual(untrusted.restrictedConfigurations.sort(), [
            'fmperf.args', 'fmperf.importStrategy', 'fmperf.interpreter', 'fmperf.path',
        ]);
    });

    it('does not depend on the Python extension', () => {
        assert.equal(manifest.extensionDependencies, undefined);
    });
});
