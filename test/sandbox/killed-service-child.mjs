// A stand-in for the service, killed with SIGKILL mid-exec by lifecycle.test.ts. Runs the
// compiled adapter (dist/); argv: workspace dir, test-run id, image.
import { createDockerSandbox } from '../../dist/sandbox/docker-sandbox.js';
import { sandboxSettingsFromConfig } from '../../dist/sandbox/settings.js';
import { loadConfig } from '../../dist/core/config.js';
import { createLogger } from '../../dist/core/logger.js';

const [workspace, runId, image] = process.argv.slice(2);
const settings = { ...sandboxSettingsFromConfig(loadConfig({ SAMOKODER_SANDBOX_IMAGE: image })), extraLabels: { 'samokoder.test-run': runId } };
const sandbox = createDockerSandbox({ settings, logger: createLogger({ level: 'silent' }) });
const handle = await sandbox.acquire('killed-mid-exec', workspace);
void handle.exec('sleep 999', { onOutput: () => undefined });
setTimeout(() => process.stdout.write(`READY ${handle.containerId}\n`), 300);
