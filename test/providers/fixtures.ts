// The fake LLM fixture lives in test/helpers/fake-llm.ts; tests across the suite import it from here.
export { useFakeLlm } from '../helpers/fake-llm.js';
