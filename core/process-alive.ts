/**
 * Whether a process with this pid exists (signal 0 checks without sending anything). Used to tell
 * what a killed process left (containers, firewall rules, directories) from what a live one owns.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
