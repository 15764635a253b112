// A model's answer rendered as Markdown (headings, lists, code, tables, links). The text is the
// model's, so it is untrusted: markdown-it with raw HTML off escapes every tag it contains, and its
// link check refuses javascript:, vbscript:, file: and data: URLs, so the HTML it returns is safe to
// insert. An image becomes a link to it (loading it would call a third party from the user's
// browser), and links open in a new tab with no access to this page and no referrer.
import MarkdownIt from 'markdown-it';

const REL = 'noopener noreferrer nofollow';
const md = new MarkdownIt({ html: false, linkify: true });
md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  tokens[idx]!.attrSet('target', '_blank');
  tokens[idx]!.attrSet('rel', REL);
  return self.renderToken(tokens, idx, options);
};
md.renderer.rules.image = (tokens, idx) => {
  const src = String(tokens[idx]!.attrGet('src') ?? '');
  const label = md.utils.escapeHtml(String(tokens[idx]!.content || src));
  return `<a href="${md.utils.escapeHtml(src)}" target="_blank" rel="${REL}">${label}</a>`;
};

export function Markdown(props: { text: string; class?: string }) {
  // translate="no": an answer is the model's text about the code, not UI text for the browser to translate.
  return <div class={`markdown ${props.class ?? ''}`} translate={false} dangerouslySetInnerHTML={{ __html: md.render(props.text) }} />;
}
