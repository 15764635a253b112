/** The current version of each agent's prompt; a new version is a new file, the old one kept. */
export { ARCHITECT_V3 as ARCHITECT_PROMPT } from './architect.v3.js';
export { CODER_V3 as CODER_PROMPT } from './coder.v3.js';
export { FIXER_V2 as FIXER_PROMPT } from './fixer.v2.js';
export { PLANNER_V2 as PLANNER_PROMPT } from './planner.v2.js';
export { promptRef, type Prompt } from './prompt.js';
export { CHAT_V1 as CHAT_PROMPT } from './chat.v1.js';
