// Wrong on purpose: ids are the list position (reused after rm), unknown ids and commands pass silently.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const file = process.env.TODO_FILE || './todos.json';

export function load() {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, ...rest] = process.argv.slice(2);
  const items = load();
  if (cmd === 'add') {
    items.push({ text: rest.join(' '), done: false });
    console.log(`added ${items.length}`);
  } else if (cmd === 'list') {
    if (!items.length) console.log('no todos');
    items.forEach((t, i) => console.log(`[${t.done ? 'x' : ' '}] ${i + 1} ${t.text}`));
  } else if (cmd === 'done' && items[rest[0] - 1]) items[rest[0] - 1].done = true;
  else if (cmd === 'rm') items.splice(rest[0] - 1, 1);
  writeFileSync(file, JSON.stringify(items));
}
