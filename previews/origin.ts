/**
 * Where previews are served (SAMOKODER_PREVIEW_ORIGIN). A wildcard origin (`https://*.preview.example.com`)
 * gives each project a host of its own: `<project id>.preview.example.com`, so one project's app
 * cannot read another's cookies or storage. A plain origin serves every preview on one host; the
 * session cookie says which project (the last one opened in that browser).
 */
export class PreviewOrigin {
  readonly wildcard: boolean;
  /** For a wildcard origin, what follows the project id in a Host header (`.localhost:8081`, lower case); else undefined. */
  readonly hostSuffix: string | undefined;

  constructor(readonly origin: string) {
    this.wildcard = origin.includes('://*.');
    this.hostSuffix = this.wildcard ? new URL(origin.replace('://*.', '://x.')).host.slice(1) : undefined;
  }

  /** The preview's base URL (no trailing slash). */
  urlFor(projectId: string): string {
    return this.wildcard ? this.origin.replace('://*.', `://${projectId}.`) : this.origin;
  }

  /**
   * Whether cookies are Secure (and may then be SameSite=None, for a UI on another site): over
   * https, and on `localhost` hosts, which browsers count as secure contexts over plain http (the
   * local default, `*.localhost`, is another site than a UI on 127.0.0.1 or localhost).
   */
  get secure(): boolean {
    if (this.origin.startsWith('https:')) return true;
    const host = new URL(this.origin.replace('://*.', '://x.')).hostname;
    return host === 'localhost' || host.endsWith('.localhost');
  }

  /** The project a request's Host names (wildcard origins); undefined for a plain origin or a foreign host. */
  projectFromHost(host: string | undefined): string | undefined {
    const suffix = this.hostSuffix;
    if (!suffix || !host) return undefined;
    const h = host.toLowerCase();
    if (!h.endsWith(suffix)) return undefined;
    const label = h.slice(0, -suffix.length);
    return /^[0-9a-f-]{36}$/.test(label) ? label : undefined;
  }
}
