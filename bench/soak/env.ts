import { randomBytes } from 'node:crypto';

/** The service's environment for a soak: one node with its run worker and the real sandbox. */
export function soakEnv(o: { databaseUrl: string; dataDir: string }): Record<string, string> {
  return {
    DATABASE_URL: o.databaseUrl,
    SAMOKODER_DATA_DIR: o.dataDir,
    SAMOKODER_MASTER_KEY: randomBytes(32).toString('base64'),
    // Every synthetic user signs up from 127.0.0.1: the per-IP sign-up limit would refuse them.
    SAMOKODER_AUTH_RATE_LIMIT: '100000',
    SAMOKODER_GENERATE_RATE_LIMIT_IP: '100000',
    SAMOKODER_DEFAULT_PLAN: 'pro',
    SAMOKODER_RUN_CONCURRENCY: '4',
    SAMOKODER_LLM_MAX_RETRIES: '0',
    // Containers of finished projects are reaped soon, as a long-lived node does all day.
    SAMOKODER_SANDBOX_IDLE_SECONDS: '20',
    SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
  };
}
