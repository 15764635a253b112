import { GRANT_PARAM, SESSION_COOKIE, SHARE_PARAM } from '../proxy-server.js';
import { SESSION_AUDIENCE, ISSUER } from '../grants.js';

export interface HaproxyConfigInput {
  /** Where browsers reach previews (SAMOKODER_PREVIEW_PORT on HOST). */
  bind: { host: string; port: number };
  /** The Node preview server (grant exchange, 404 pages, anything the fast path does not prove). */
  control: { host: string; port: number };
  /** The runtime API's socket, and the two maps the service keeps up to date through it. */
  adminSocket: string;
  /** The Lua script with the hop-by-hop actions (HOP_BY_HOP_LUA, written beside the config). */
  luaScript: string;
  routesMap: string;
  sharesMap: string;
  /** The HS256 secret of the session cookie (PreviewGrants.sessionSecret). */
  sessionSecret: string;
  /** For a wildcard origin, what follows the project id in the Host header (`.localhost:8081`); undefined for a plain origin. */
  hostSuffix: string | undefined;
  /** HAProxy's threads. */
  threads: number;
}

/** The stick table whose counters say which previews were used (PreviewManager.touch). */
export const ACTIVITY_TABLE = 'activity';
/** The backend whose request count says how many requests took the fast path. */
export const APP_BACKEND = 'app';

/**
 * HAProxy drops the hop-by-hop headers it knows, not those a Connection header names (RFC 9110
 * §7.6.1 says a proxy must): these two actions do, for requests and answers whose Connection header
 * names anything but keep-alive, close or upgrade (so almost never run).
 */
export const HOP_BY_HOP_LUA = `
local standard = { ["keep-alive"] = true, close = true, upgrade = true }
local function strip(headers, del)
  local connection = headers["connection"]
  if not connection then return end
  for i = 0, #connection do
    for token in string.gmatch(connection[i] or "", "[^,%s]+") do
      local name = string.lower(token)
      if not standard[name] then del(name) end
    end
  end
end
core.register_action("strip_request_hop_by_hop", { "http-req" }, function(txn)
  strip(txn.http:req_get_headers(), function(name) txn.http:req_del_header(name) end)
end)
core.register_action("strip_response_hop_by_hop", { "http-res" }, function(txn)
  strip(txn.http:res_get_headers(), function(name) txn.http:res_del_header(name) end)
end)
`;

/** A value for HAProxy's config between single quotes (no escapes are processed there, so none may appear). */
function quoted(value: string): string {
  if (/['\s\\#]/.test(value)) throw new Error(`not a safe HAProxy config value: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/**
 * HAProxy's configuration for the preview data plane. A request takes the fast path (straight to
 * the app's container) only when everything the Node preview server would check holds: the session
 * cookie's HS256 signature, issuer, audience and expiry; for a wildcard origin, a Host naming the
 * cookie's project; for a share link, the share still active (in the shares map); and a running
 * preview (in the routes map). Anything else (a grant or share token in the URL, no cookie, a
 * preview this node has not heard of yet) goes to the Node server, which decides with the database.
 * So HAProxy never admits what Node would refuse; at worst it hands a request to Node.
 */
export function renderHaproxyConfig(c: HaproxyConfigInput): string {
  const cookieStrip = `'(^|.*?;\\s*)${SESSION_COOKIE}=[^;]*(;\\s*)?(.*)' '\\1\\3'`;
  // What the app (and the Node server, which passes them on) learns of the browser's request.
  const forwarded = [
    '  option forwardfor',
    '  http-request set-header X-Forwarded-Proto http',
    '  http-request set-header X-Forwarded-Port %[var(sess.port)]',
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)] unless { req.hdr(x-forwarded-host) -m found }',
  ];
  const lines = [
    'global',
    `  stats socket ${quoted(c.adminSocket)} mode 600 level admin`,
    // Only HAProxy's own alerts; no access log (the app's traffic is the user's).
    '  log stderr format raw local0 warning',
    `  lua-load ${quoted(c.luaScript)}`,
    `  nbthread ${c.threads}`,
    '',
    'defaults',
    '  mode http',
    '  log global',
    '  timeout connect 5s',
    '  timeout http-request 30s',
    '  timeout http-keep-alive 60s',
    '  timeout client 1h',
    // A preview may hold a request open (long polling, server-sent events) or a WebSocket.
    '  timeout server 1h',
    '  timeout tunnel 1h',
    '',
    'frontend preview',
    `  bind ${c.bind.host.includes(':') ? `[${c.bind.host}]` : c.bind.host}:${c.bind.port}`,
    // The browser's port, kept before a request's set-dst-port points the connection at a container.
    '  tcp-request connection set-var(sess.port) dst_port',
    `  acl exchange url_param(${GRANT_PARAM}) -m found`,
    `  acl exchange url_param(${SHARE_PARAM}) -m found`,
    `  http-request set-var(txn.tok) req.cook(${SESSION_COOKIE}) if !exchange`,
    `  http-request set-var(txn.sig) var(txn.tok),jwt_verify(HS256,${quoted(c.sessionSecret)}) if { var(txn.tok) -m found }`,
    '  acl signed var(txn.sig) -m int 1',
    '  http-request set-var(txn.now) date() if signed',
    `  http-request set-var(txn.left) var(txn.tok),jwt_payload_query('$.exp',int),sub(txn.now) if signed`,
    `  http-request set-var(txn.iss) var(txn.tok),jwt_payload_query('$.iss') if signed`,
    `  http-request set-var(txn.aud) var(txn.tok),jwt_payload_query('$.aud') if signed`,
    `  http-request set-var(txn.kind) var(txn.tok),jwt_payload_query('$.k') if signed`,
    `  http-request set-var(txn.pid) var(txn.tok),jwt_payload_query('$.pid') if signed`,
    `  http-request set-var(txn.sid) var(txn.tok),jwt_payload_query('$.sid') if signed { var(txn.kind) -m str share }`,
    `  http-request set-var(txn.sharepid) var(txn.sid),map(${quoted(c.sharesMap)}) if { var(txn.sid) -m found }`,
    `  http-request set-var(txn.up) var(txn.pid),map(${quoted(c.routesMap)}) if signed`,
    ...(c.hostSuffix === undefined
      ? ['  acl host_ok always_true']
      : [`  http-request set-var(txn.host) var(txn.pid),concat(${quoted(c.hostSuffix.toLowerCase())}) if signed`, '  acl host_ok req.hdr(host),lower,strcmp(txn.host) eq 0']),
    '  acl live var(txn.left) -m int gt 0',
    `  acl ours var(txn.iss) -m str ${ISSUER}`,
    `  acl session var(txn.aud) -m str ${SESSION_AUDIENCE}`,
    '  acl owner var(txn.kind) -m str owner',
    '  acl shared var(txn.kind) -m str share',
    '  acl share_ok var(txn.sharepid),strcmp(txn.pid) eq 0',
    '  acl routed var(txn.up) -m found',
    '  http-request set-var(txn.fast) bool(1) if signed live ours session host_ok routed owner',
    '  http-request set-var(txn.fast) bool(1) if signed live ours session host_ok routed shared share_ok',
    '  acl fast var(txn.fast) -m bool',
    `  http-request track-sc0 var(txn.pid) table ${ACTIVITY_TABLE} if fast`,
    '  http-request set-dst var(txn.up),field(1,:) if fast',
    '  http-request set-dst-port var(txn.up),field(2,:) if fast',
    `  use_backend ${APP_BACKEND} if fast`,
    '  default_backend control',
    '',
    `backend ${APP_BACKEND}`,
    '  retries 1',
    // A browser that goes away: the app's request is closed too (long polls, streams).
    '  option abortonclose',
    `  acl named_hops req.hdr(connection) -m reg -i ${quoted('^(?!(keep-alive|close|upgrade)$)')}`,
    '  http-request lua.strip_request_hop_by_hop if named_hops',
    ...['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer'].map((h) => `  http-request del-header ${h}`),
    `  acl answer_named_hops res.hdr(connection) -m reg -i ${quoted('^(?!(keep-alive|close|upgrade)$)')}`,
    '  http-response lua.strip_response_hop_by_hop if answer_named_hops',
    ...['keep-alive', 'proxy-authenticate', 'trailer'].map((h) => `  http-response del-header ${h}`),
    // The app is untrusted: it never receives the preview session (twice: a browser may send two).
    `  http-request replace-header Cookie ${cookieStrip}`,
    `  http-request replace-header Cookie ${cookieStrip}`,
    `  http-request replace-header Cookie '^(.*?);\\s*$' '\\1'`,
    '  http-request del-header Cookie if { req.hdr(cookie) -m len 0 }',
    ...forwarded,
    // The destination the frontend set (the container's address).
    '  server app 0.0.0.0:0',
    `  http-error status 502 content-type 'text/plain; charset=utf-8' string 'The preview did not answer. It may have stopped: start it again from Samokoder.'`,
    `  http-error status 503 content-type 'text/plain; charset=utf-8' string 'The preview did not answer. It may have stopped: start it again from Samokoder.'`,
    `  http-error status 504 content-type 'text/plain; charset=utf-8' string 'The preview took too long to answer.'`,
    '',
    'backend control',
    ...forwarded,
    `  server node ${c.control.host}:${c.control.port}`,
    '',
    `backend ${ACTIVITY_TABLE}`,
    '  stick-table type string len 64 size 100k expire 1h store http_req_cnt',
    '',
  ];
  return lines.join('\n');
}
