import type { EventsRepo, ProjectEvent } from './event-log.js';

/** What the followers of a project read from the event log. */
export type EventReader = Pick<EventsRepo, 'listSince' | 'lastSeq'>;

/**
 * An EventReader whose replay reads are shared: when N subscribers of one project wake up on the
 * same NOTIFY, they all ask for "events after seq S" at once; one query answers them all instead
 * of N. (Only the owner can subscribe, so the user is the same too; it is part of the key anyway.)
 * Callers only read the returned rows. It wraps the reader rather than extending EventsRepo, so
 * the log itself knows nothing of it.
 */
export class CoalescingEventReader implements EventReader {
  private readonly inFlight = new Map<string, Promise<ProjectEvent[]>>();

  constructor(private readonly reader: EventReader) {}

  listSince(projectId: string, userId: string, since: number, limit = 500): Promise<ProjectEvent[]> {
    const key = `${projectId}\u0000${userId}\u0000${since}\u0000${limit}`;
    let read = this.inFlight.get(key);
    if (!read) {
      read = this.reader.listSince(projectId, userId, since, limit).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, read);
    }
    return read;
  }

  lastSeq(projectId: string, userId: string): Promise<number | undefined> {
    return this.reader.lastSeq(projectId, userId);
  }
}
