// Types of provision.mjs for the TypeScript tests that import it.
export interface EngineSituation {
  platform: NodeJS.Platform;
  root: boolean;
  debian: boolean;
  dockerHost: string | undefined;
  error?: string;
}
export interface ProvisionProblem {
  component: 'engine' | 'image';
  reason: string;
  detail: string;
  fix: string;
}
export function engineFix(situation: EngineSituation): string;
export function imageFix(error?: string): string;
export function provisionSandbox(options?: {
  log?: (message: string) => void;
  required?: boolean;
}): Promise<{ image?: string; browserImage?: string; browserProblem?: { reason: string; fix: string }; off?: true; problem?: ProvisionProblem }>;
