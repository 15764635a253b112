/** A repeat of the first signal within this long is the same request delivered twice, not "now". */
export const DUPLICATE_SIGNAL_MS = 1000;

/**
 * Calls `stop` on the first SIGTERM or SIGINT. A signal within DUPLICATE_SIGNAL_MS of the first
 * is ignored: `npm start` under a process-group SIGTERM (systemd's default, a container's stop)
 * gets one from the group and one forwarded by the npm launcher. A later one (a second Ctrl-C)
 * exits at once with 1.
 */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => void): void {
  let first: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first === undefined) {
      first = Date.now();
      stop(signal);
    } else if (Date.now() - first > DUPLICATE_SIGNAL_MS) process.exit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
