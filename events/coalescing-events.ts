import { EventsRepo, type ProjectEvent } from './event-log.js';

/**
 * An EventsRepo whose replay reads are shared: when N subscribers of one project wake up on the
 * same NOTIFY, they all ask for "events after seq S" at once; one query answers them all instead
 * of N. (Only the owner can subscribe, so the user is the same too; it is part of the key anyway.)
 * Callers only read the returned rows.
 */
export class CoalescingEventsRepo extends EventsRepo {
  private readonly inFlight = new Map<string, Promise<ProjectEvent[]>>();

  override listSince(projectId: string, userId: string, since: number, limit = 500): Promise<ProjectEvent[]> {
    const key = `${projectId}\u0000${userId}\u0000${since}\u0000${limit}`;
    let read = this.inFlight.get(key);
    if (!read) {
      read = super.listSince(projectId, userId, since, limit).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, read);
    }
    return read;
  }
}
