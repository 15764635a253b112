import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, enc, filePath, listOf, raw, type FileContent, type TreeEntry } from '../api.js';
import { highlight } from '../highlight.js';
import { formatNumber, useT } from '../i18n/index.js';
import { ErrorNote } from './common.js';

interface Node {
  name: string;
  path: string;
  type: TreeEntry['type'];
  size?: number;
  children: Node[];
}

function buildTree(entries: TreeEntry[]): Node[] {
  const root: Node = { name: '', path: '', type: 'dir', children: [] };
  const dirs = new Map<string, Node>([['', root]]);
  const dirOf = (p: string): Node => {
    const existing = dirs.get(p);
    if (existing) return existing;
    const i = p.lastIndexOf('/');
    const parent = dirOf(i < 0 ? '' : p.slice(0, i));
    const node: Node = { name: p.slice(i + 1), path: p, type: 'dir', children: [] };
    parent.children.push(node);
    dirs.set(p, node);
    return node;
  };
  for (const e of entries) {
    if (e.type === 'dir') {
      dirOf(e.path);
      continue;
    }
    const i = e.path.lastIndexOf('/');
    dirOf(i < 0 ? '' : e.path.slice(0, i)).children.push({ name: e.path.slice(i + 1), path: e.path, type: e.type, ...(e.size !== undefined ? { size: e.size } : {}), children: [] });
  }
  const sort = (n: Node) => {
    n.children.sort((a, b) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name));
    n.children.forEach(sort);
  };
  sort(root);
  return root.children;
}

function TreeList({ nodes, selected, onOpen }: { nodes: Node[]; selected: string | null; onOpen(p: string): void }) {
  const t = useT('files');
  return (
    <ul role="group">
      {nodes.map((n) =>
        n.type === 'dir' ? (
          <li>
            <details open>
              <summary translate={false}>{n.name}/</summary>
              <TreeList nodes={n.children} selected={selected} onOpen={onOpen} />
            </details>
          </li>
        ) : (
          <li>
            <button class={`file ${selected === n.path ? 'selected' : ''}`} data-path={n.path} translate={false} aria-current={selected === n.path ? 'true' : undefined} onClick={() => onOpen(n.path)}>
              {n.name}
              {n.type === 'symlink' && <span class="muted"> → ({t('link')})</span>}
            </button>
          </li>
        ),
      )}
    </ul>
  );
}

type Content = Omit<FileContent, 'size'> & { size?: number };

async function readFile(projectId: string, path: string): Promise<Content> {
  const res = await raw('GET', `/api/projects/${enc(projectId)}/files/${filePath(path)}`);
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('application/json')) {
    const j = (await res.json()) as Partial<Content> & { file?: Content };
    const f = j.file ?? j;
    return { path, binary: Boolean(f.binary), ...(f.size !== undefined ? { size: f.size } : {}), ...(typeof f.content === 'string' ? { content: f.content } : {}) };
  }
  if (type.startsWith('text/') || type.includes('javascript') || type.includes('xml')) return { path, binary: false, content: await res.text() };
  const size = (await res.arrayBuffer()).byteLength;
  return { path, binary: true, size };
}

export function FilesView({ projectId, version }: { projectId: string; version: number }) {
  const t = useT('files');
  const [entries, setEntries] = useState<TreeEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [file, setFile] = useState<Content | null>(null);
  const [fileError, setFileError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    api<unknown>('GET', `/api/projects/${enc(projectId)}/files`).then(
      (b) => live && (setEntries(listOf<TreeEntry>(b, 'entries', 'files', 'tree')), setError(null)),
      (err: unknown) => live && setError(err),
    );
    return () => void (live = false);
  }, [projectId, version]);

  useEffect(() => {
    if (!selected) return;
    let live = true;
    readFile(projectId, selected).then(
      (f) => live && (setFile(f), setFileError(null)),
      (err: unknown) => live && (setFile(null), setFileError(err)),
    );
    return () => void (live = false);
  }, [projectId, selected, version]);

  const tree = useMemo(() => buildTree(entries ?? []), [entries]);
  const html = file && !file.binary && file.content !== undefined ? highlight(file.content, file.path) : undefined;

  return (
    <div class="files">
      <nav class="tree card" aria-label={t('tree')}>
        <ErrorNote error={error} />
        {entries === null ? <p class="muted">{t('common:loading')}</p> : entries.length === 0 ? <p class="muted">{t('none')}</p> : <TreeList nodes={tree} selected={selected} onOpen={setSelected} />}
      </nav>
      <section class="viewer card" aria-label={t('viewer')} aria-live="polite">
        {!selected && <p class="muted">{t('choose')}</p>}
        <ErrorNote error={fileError} />
        {file && (
          <>
            <h3 class="mono">{file.path}</h3>
            {file.binary ? (
              <p class="muted">{file.size !== undefined ? t('binarySized', { count: file.size, size: formatNumber(file.size) }) : t('binary')}</p>
            ) : html !== undefined ? (
              <pre class="code hljs" tabIndex={0}>
                <code dangerouslySetInnerHTML={{ __html: html }} />
              </pre>
            ) : (
              <pre class="code" tabIndex={0}>
                <code>{file.content}</code>
              </pre>
            )}
          </>
        )}
      </section>
    </div>
  );
}
