import { dictionary } from '@zxcvbn-ts/language-common';

/** Long enough that a guess per second per account (the sign-in rate limit) never gets there. */
export const MIN_PASSWORD_LENGTH = 10;

// zxcvbn-ts's list of the ~50,000 most common passwords (from leaked password corpora), all lower
// case. Built on first use: decompressing it takes a moment that start-up need not pay.
let common: ReadonlySet<string> | undefined;

function isCommon(password: string): boolean {
  common ??= new Set(dictionary['passwords-common']);
  return common.has(password.toLowerCase());
}

/** What is wrong with a new password, as the fix to make; undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (isCommon(password)) return 'is one of the most common passwords and would be guessed first; choose another (a few unrelated words work well)';
  return undefined;
}
