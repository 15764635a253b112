import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { User } from '../../db/repos/users.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type AuthLevel = 'none' | 'user' | 'admin';

export interface AuthContext {
  user: User;
  /** Set for local session tokens (so logout can revoke it); absent for Supabase tokens. */
  tokenId?: string;
  /** When the credential stops being valid (a long-lived WebSocket is closed then). */
  expiresAt?: Date;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Content type when not JSON (e.g. application/zip). */
  contentType?: string;
}

export interface HandlerInput<B, P, Q> {
  body: B;
  params: P;
  query: Q;
  auth: AuthContext | undefined;
  req: Request;
  res: Response;
}

/** What a handler returns: a status and JSON body, or nothing when it wrote the response itself. */
export type HandlerResult = { status?: number; body?: unknown; headers?: Record<string, string> } | void;

export interface RouteSpec<B = unknown, P = unknown, Q = unknown> {
  method: Method;
  /** Express path syntax (`/api/projects/:id`); converted to `{id}` in the OpenAPI document. */
  path: string;
  summary: string;
  tag: string;
  auth: AuthLevel;
  body?: z.ZodType<B>;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  responses: Record<number, ResponseSpec>;
  handler: (input: HandlerInput<B, P, Q>) => Promise<HandlerResult>;
}

// Type-erased form stored in a route table.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any>;

/** Declares a route; the generic parameters are inferred from the zod schemas. */
export function route<B = undefined, P = undefined, Q = undefined>(spec: RouteSpec<B, P, Q>): AnyRoute {
  return spec as AnyRoute;
}

export { errorBodySchema } from '../../protocol/api-types.js';
