import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { MasterKey } from '../core/master-key.js';
import type { Database } from '../db/port.js';
import type { Vault } from '../keys/vault.js';
import { sandboxSettingsFromConfig } from '../sandbox/settings.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import { createDockerPreviewRuntime } from './docker-runtime.js';
import { PreviewGrants } from './grants.js';
import { PreviewManager } from './manager.js';
import { PreviewOrigin } from './origin.js';
import { ProjectEnv } from './project-env.js';

export { PreviewOrigin } from './origin.js';
export type { PreviewManager } from './manager.js';
export type { PreviewRuntime } from './runtime.js';

/** Live previews and project variables, as the API and the preview server use them. */
export interface PreviewServices {
  manager: PreviewManager;
  env: ProjectEnv;
  grants: PreviewGrants;
  /** Where previews are served; server.ts sets it once the preview listener has its port (when not configured). */
  origin: PreviewOrigin;
}

export function createPreviewServices(deps: { config: Config; db: Database; logger: Logger; workspaces: WorkspaceStore; vault: Vault; masterKey: MasterKey; sandboxEnabled: boolean }): PreviewServices {
  const { config, db, logger } = deps;
  const env = new ProjectEnv(db, deps.vault);
  const runtime = deps.sandboxEnabled
    ? createDockerPreviewRuntime({
        sandbox: sandboxSettingsFromConfig(config),
        settings: { appPort: config.browser.port, startTimeoutMs: config.browser.startTimeoutMs, spareNetworks: config.preview.spareNetworks },
        logger: logger.child({ module: 'preview' }),
      })
    : undefined;
  const manager = new PreviewManager({ db, logger: logger.child({ module: 'preview' }), workspaces: deps.workspaces, env, runtime, idleMs: config.preview.idleMs });
  return { manager, env, grants: new PreviewGrants(deps.masterKey), origin: new PreviewOrigin(config.preview.origin) };
}
