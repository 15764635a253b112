import { z } from 'zod';

/** API types of live previews, share links and project variables (server, web and CLI import them). */

export const PREVIEW_STATUSES = ['starting', 'running', 'failed', 'stopped'] as const;

export const previewSchema = z
  .object({
    status: z.enum(PREVIEW_STATUSES).meta({ description: 'starting; running (the URL serves the app); failed (the start command exited or never listened: see output); stopped' }),
    url: z.string().nullable().meta({ description: 'The app on the preview origin, with a short-lived grant for the caller (open it within SAMOKODER_PREVIEW_GRANT_TTL_SECONDS); null unless running' }),
    output: z.string().meta({ description: "The end of the app's output (project variables' values replaced by their names)" }),
    startedAt: z.string().nullable(),
    commit: z.string().nullable().meta({ description: 'The workspace commit the preview runs' }),
  })
  .meta({ id: 'Preview' });

export const shareSchema = z
  .object({
    id: z.string(),
    url: z.string().optional().meta({ description: 'The link (only in the answer that created it: the token is stored hashed)' }),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'PreviewShare' });

export const envVarsSchema = z
  .object({ vars: z.array(z.object({ name: z.string(), updatedAt: z.string() })).meta({ description: 'Names only: values are never returned' }) })
  .meta({ id: 'ProjectEnvVars' });

export type Preview = z.infer<typeof previewSchema>;
export type PreviewStatus = Preview['status'];
export type PreviewShare = z.infer<typeof shareSchema>;
export type ProjectEnvVars = z.infer<typeof envVarsSchema>;
