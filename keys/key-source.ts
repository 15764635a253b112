/** Who pays for a model call: the user's own key (BYOK) or a key of the operator's platform pool. */
export type KeySource = 'byok' | 'platform';
