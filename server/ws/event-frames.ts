import type { EphemeralEvent, ProjectEvent } from '../../events/event-log.js';
import type { DurableFrame, EphemeralFrame } from '../../protocol/ws-frames.js';

/**
 * Server → client event frames, built from the event log's rows and notices (the frames
 * themselves are described in protocol/ws-frames.ts). The log stores what the typed emit sites
 * appended, so its rows are read as catalogue events here.
 */

export const durableFrame = (e: ProjectEvent): DurableFrame =>
  ({
    seq: e.seq,
    projectId: e.projectId,
    runId: e.runId,
    type: e.type,
    at: e.at.toISOString(),
    data: e.data,
  }) as DurableFrame;

let lastEvent: EphemeralEvent | undefined;
let lastText = '';

/**
 * The JSON text of an ephemeral event's frame, computed once per event: the feed hands the same
 * event object to every subscriber of the project on this node, one after the other in one
 * synchronous loop, so remembering the last event is enough for a fan-out to 1,000 sockets to
 * serialise it once. (A WeakMap keyed by event did the same, but its entry per delta is an
 * ephemeron the young-generation GC must trace: at 5,000 deltas/s that made each scavenge slower.)
 */
export function ephemeralFrameText(e: EphemeralEvent): string {
  if (e !== lastEvent) {
    lastText = JSON.stringify(ephemeralFrame(e));
    lastEvent = e;
  }
  return lastText;
}

export const ephemeralFrame = (e: EphemeralEvent): EphemeralFrame =>
  ({
    projectId: e.projectId,
    runId: e.runId,
    type: e.type,
    at: e.at instanceof Date && !Number.isNaN(e.at.getTime()) ? e.at.toISOString() : new Date().toISOString(),
    data: e.data,
    ...(e.truncated ? { truncated: true as const } : {}),
  }) as EphemeralFrame;
