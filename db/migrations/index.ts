import { init } from './0001-init.js';
import { authChangedNotify } from './0002-auth-changed-notify.js';
import { projectsChangedNotify } from './0003-projects-changed-notify.js';
import { runFairness } from './0004-run-fairness.js';
import { planWorkspaceQuota } from './0005-plan-workspace-quota.js';
import { oneActiveRun } from './0007-one-active-run.js';
import { runScreenshots } from './0008-run-screenshots.js';
import { previews } from './0009-previews.js';
import { runBudgetModels } from './0011-run-budget-models.js';
import { usageEstimated } from './0012-usage-estimated.js';
import { gitIo } from './0013-git-io.js';
import { projectChat } from './0014-project-chat.js';
import { modelCatalogue } from './0015-model-catalogue.js';
import { runMessage } from './0016-run-message.js';
import { gitKnownHosts } from './0017-git-known-hosts.js';

export interface Migration {
  /** Strictly increasing; applied in this order, each once. */
  version: number;
  name: string;
  sql: string;
}

/** Every migration, oldest first. A new migration is a new file added at the end. */
export const MIGRATIONS: readonly Migration[] = [init, authChangedNotify, projectsChangedNotify, runFairness, planWorkspaceQuota, oneActiveRun, runScreenshots, previews, runBudgetModels, usageEstimated, gitIo, projectChat, modelCatalogue, runMessage, gitKnownHosts];
