/** The current version of each agent's prompt; a new version is a new file, the old one kept. */
export { ARCHITECT_V2 as ARCHITECT_PROMPT } from './architect.v2.js';
export { CODER_V2 as CODER_PROMPT } from './coder.v2.js';
export { FIXER_V2 as FIXER_PROMPT } from './fixer.v2.js';
export { PLANNER_V1 as PLANNER_PROMPT } from './planner.v1.js';
export { promptRef, type Prompt } from './prompt.js';
export { CHAT_V1 as CHAT_PROMPT } from './chat.v1.js';
