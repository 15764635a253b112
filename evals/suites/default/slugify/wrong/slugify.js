// Wrong on purpose: accents are stripped with their letters, punctuation at the ends is kept.
export function slugify(text) {
  return text.toLowerCase().trim().replace(/[^a-z0-9]+/g, '-');
}
