import { randomUUID } from 'node:crypto';
import os from 'node:os';

/**
 * Every container carries these labels, so the service (and an operator with `docker ps
 * --filter label=samokoder.app=samokoder`) can find it. The owner labels (host + pid) let the
 * start-up sweep remove only containers whose process is gone, never a live sibling's.
 */
export const LABEL_APP = 'samokoder.app';
export const APP_VALUE = 'samokoder';
export const LABEL_PROJECT = 'samokoder.project';
export const LABEL_OWNER = 'samokoder.owner';
export const LABEL_CREATED = 'samokoder.created';
export const LABEL_HOST = 'samokoder.host';
export const LABEL_PID = 'samokoder.pid';
/**
 * The deployment the container belongs to (SAMOKODER_SANDBOX_NAMESPACE). Two deployments on one
 * Docker engine (or parallel test suites) each sweep only their own dead processes' containers.
 */
export const LABEL_NAMESPACE = 'samokoder.namespace';
/** This process's id: tells our own containers from a predecessor's that had the same pid (pid 1 in a container). */
export const LABEL_INSTANCE = 'samokoder.instance';
export const INSTANCE_ID = randomUUID();

export function containerLabels(
  projectId: string,
  ownerId: string | undefined,
  namespace: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...ownerLabels(namespace, extra),
    [LABEL_PROJECT]: projectId,
    ...(ownerId ? { [LABEL_OWNER]: ownerId } : {}),
  };
}

/**
 * The labels of something this process made before any project had it (a preview's spare
 * network): no project, but the same sweep rule (namespace, host, pid, instance) as the rest.
 */
export function ownerLabels(namespace: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    ...extra,
    [LABEL_APP]: APP_VALUE,
    [LABEL_NAMESPACE]: namespace,
    [LABEL_CREATED]: new Date().toISOString(),
    [LABEL_HOST]: os.hostname(),
    [LABEL_PID]: String(process.pid),
    [LABEL_INSTANCE]: INSTANCE_ID,
  };
}
