// Writes docs/events.md from the event catalogue (see protocol/event-docs.ts). Run from the
// repository root: `npm run docs:events`.
import { writeFileSync } from 'node:fs';
import { renderEventDocs } from '../protocol/event-docs.js';

const path = 'docs/events.md';
writeFileSync(path, renderEventDocs());
console.log(`wrote ${path}`);
