import type { ContainerCreateOptions } from 'dockerode';
import { containerLabels } from './labels.js';
import { KEEPALIVE_UID, SANDBOX_GID, SANDBOX_HOME, SANDBOX_UID, SANDBOX_WORKDIR, type SandboxSettings } from './settings.js';

export interface ContainerSpecInput {
  projectId: string;
  ownerId: string | undefined;
  /** Absolute host path; the only persistent writable path the container gets. */
  workspaceDir: string;
}

/**
 * The whole container definition, in one place: every hardening setting is here with the reason
 * for it (docs/security.md has the same table). Nothing in it comes from API input; only the
 * operator's SandboxSettings and the project's own workspace path.
 */
export function hardenedContainerSpec(settings: SandboxSettings, input: ContainerSpecInput): ContainerCreateOptions {
  const tmpfsOptions = `rw,noexec,nosuid,nodev,size=${settings.tmpBytes}`;
  return {
    Image: settings.image,
    // PID 1 is tini (Init below); this just keeps the container alive between execs.
    Cmd: ['sleep', 'infinity'],
    // Not root. The keep-alive (tini + sleep) runs as nobody, a different uid from the commands
    // (10001, set per exec): `kill -9 -1` as 10001 then ends every command process but cannot
    // stop the container. An escape lands as an unprivileged uid with no sudo and no setuid binaries.
    User: `${KEEPALIVE_UID}:${KEEPALIVE_UID}`,
    WorkingDir: SANDBOX_WORKDIR,
    Hostname: 'sandbox',
    // Only what a shell and npm need. The service's own environment (API keys, DATABASE_URL, ...) is never copied.
    Env: [`HOME=${SANDBOX_HOME}`, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8'],
    Labels: containerLabels(input.projectId, input.ownerId, settings.namespace, settings.extraLabels),
    NetworkDisabled: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    HostConfig: {
      // Starts on the internal egress network only because Docker cannot connect a 'none' container
      // later; the adapter disconnects it before it starts, so it begins with loopback only.
      NetworkMode: settings.egressNetwork,
      // No capability at all: no chown of others' files, no raw sockets, no mount, no ptrace of others.
      CapDrop: ['ALL'],
      // setuid/setgid bits and file capabilities cannot raise privileges. The default seccomp profile
      // stays on: we never pass seccomp=unconfined, and never Privileged.
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      // The image cannot be modified: a command cannot plant a binary for the next one outside the workspace.
      ReadonlyRootfs: true,
      Tmpfs: {
        // Scratch space, size-capped (ENOSPC inside only), gone with the container; noexec: nothing dropped there runs.
        '/tmp': tmpfsOptions,
        // HOME (npm's cache, .npmrc) must be writable under a read-only root; exec allowed because
        // npx runs what it caches there. Its size counts against the same cap.
        [SANDBOX_HOME]: `rw,nosuid,nodev,size=${settings.tmpBytes},uid=${SANDBOX_UID},gid=${SANDBOX_GID},mode=0700`,
      },
      // /dev/shm is Docker's private tmpfs (noexec,nosuid,nodev); keep it small.
      ShmSize: 16 * 1024 * 1024,
      IpcMode: 'private',
      Mounts: [
        // The only persistent writable path: the project's own directory, never the workspaces root
        // (nor the project's git directory, which lives beside it).
        { Type: 'bind', Source: input.workspaceDir, Target: SANDBOX_WORKDIR, ReadOnly: false },
      ],
      // Memory == memory+swap: no swap, so a memory bomb is OOM-killed (137) instead of thrashing the host.
      Memory: settings.memoryBytes,
      MemorySwap: settings.memoryBytes,
      // CFS quota: a CPU spin takes at most this many cores.
      NanoCpus: Math.round(settings.cpus * 1e9),
      // A fork bomb hits this instead of the host's process table.
      PidsLimit: settings.pidsLimit,
      // Open files per process.
      Ulimits: [{ Name: 'nofile', Soft: settings.nofile, Hard: settings.nofile }],
      // tini as PID 1 reaps zombies (killed trees leave none) and forwards signals.
      Init: true,
      // We remove containers ourselves (reaper, sweep); never restarted behind our back.
      RestartPolicy: { Name: 'no' },
      // No Docker socket, no host paths, no devices: Mounts above is the complete list.
      Binds: [],
      Devices: [],
    },
  };
}
