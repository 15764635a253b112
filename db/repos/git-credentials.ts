import { SealedSecrets, ENVELOPE_COLUMNS, withSealed, type EnvelopeRow, type SealedTable, type WithSealed } from '../../keys/sealed-secrets.js';
import type { Queryable } from '../port.js';

export type GitCredentialKind = 'token' | 'ssh-key';

/** A stored git credential as shown to its owner: never any secret material. */
export interface GitCredentialInfo {
  id: string;
  userId: string;
  kind: GitCredentialKind;
  label: string | null;
  /** The user name sent with a token over HTTPS (GitHub ignores it; others want the account name). */
  username: string | null;
  masked: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface Row {
  id: string;
  user_id: string;
  kind: GitCredentialKind;
  label: string | null;
  username: string | null;
  masked: string;
  created_at: Date;
  last_used_at: Date | null;
}

/** git_credentials: sealed like a BYOK key, to its user, `git-<kind>` and its row id. */
const GIT_CREDENTIALS: SealedTable<Row, GitCredentialInfo> = {
  name: 'git_credentials',
  owner: 'user_id',
  item: 'id',
  infoColumns: 'id, user_id, kind, label, username, masked, created_at, last_used_at',
  toInfo: (r) => ({
    id: r.id,
    userId: r.user_id,
    kind: r.kind,
    label: r.label,
    username: r.username,
    masked: r.masked,
    createdAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
  }),
  orderBy: 'created_at DESC, id',
  bindingId: (_userId, id) => id,
};

/** Every query on a user's git credentials is scoped by user id. */
export class GitCredentialsRepo extends SealedSecrets<Row, GitCredentialInfo> {
  constructor(db: Queryable) {
    super(db, GIT_CREDENTIALS);
  }

  /** The credential with its envelope, only if it belongs to `userId`; its last use is recorded. */
  async useWithEnvelope(userId: string, id: string): Promise<WithSealed<GitCredentialInfo> | undefined> {
    const res = await this.db.query<Row & EnvelopeRow>(
      `UPDATE git_credentials SET last_used_at = now() WHERE user_id = $1 AND id = $2 RETURNING ${GIT_CREDENTIALS.infoColumns}, ${ENVELOPE_COLUMNS}`,
      [userId, id],
    );
    const r = res.rows[0];
    return r && withSealed(GIT_CREDENTIALS, r);
  }
}
