import type { Queryable } from '../db/port.js';
import { SealedSecrets, type SealedTable } from '../keys/sealed-secrets.js';

/** A project variable as its owner sees it: the name only, never the value. */
export interface EnvVarInfo {
  name: string;
  updatedAt: Date;
}

interface Row {
  project_id: string;
  name: string;
  updated_at: Date;
}

/** project_env: each value sealed to the project's owner and `<project id>:<name>`; setting a name again replaces its value. */
const PROJECT_ENV: SealedTable<Row, EnvVarInfo> = {
  name: 'project_env',
  owner: 'project_id',
  item: 'name',
  infoColumns: 'project_id, name, updated_at',
  toInfo: (r) => ({ name: r.name, updatedAt: new Date(r.updated_at) }),
  orderBy: 'name',
  bindingId: (projectId, name) => `${projectId}:${name}`,
  replaceTouches: 'updated_at',
};

/** project_env (previews/project-env.ts decides what is stored and who may read it). */
export class ProjectEnvRepo extends SealedSecrets<Row, EnvVarInfo> {
  constructor(db: Queryable) {
    super(db, PROJECT_ENV);
  }
}
