import type { Config } from '../../core/config.js';

/**
 * Whether an account is an administrator: decided at every request from the configuration, by
 * identities nobody can claim by typing them in. A listed account id (SAMOKODER_ADMIN_USER_IDS),
 * or an email in SAMOKODER_ADMIN_EMAILS that a Supabase token says was verified. A local
 * registration proves nothing about its email (no mail is sent), so it never makes an admin; the
 * users.role column is not read as a grant either, so no row written earlier can keep one.
 */
export function isAdmin(config: Pick<Config, 'adminEmails' | 'security'>, userId: string, verifiedEmail?: string): boolean {
  if (config.security.adminUserIds.includes(userId.toLowerCase())) return true;
  return verifiedEmail !== undefined && config.adminEmails.includes(verifiedEmail.toLowerCase());
}
