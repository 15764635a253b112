import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const file = process.env.TODO_FILE || './todos.json';

export function load() {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { nextId: 1, items: [] };
}

function save(db) {
  writeFileSync(file, JSON.stringify(db, null, 2));
}

function fail(message, code) {
  console.error(message);
  process.exit(code);
}

function main([cmd, ...rest]) {
  const db = load();
  const find = (id) => db.items.find((t) => t.id === Number(id)) ?? fail(`todo: no item ${id}`, 1);
  switch (cmd) {
    case 'add': {
      const item = { id: db.nextId++, text: rest.join(' '), done: false };
      db.items.push(item);
      save(db);
      console.log(`added ${item.id}`);
      break;
    }
    case 'list':
      if (!db.items.length) console.log('no todos');
      for (const t of db.items) console.log(`[${t.done ? 'x' : ' '}] ${t.id} ${t.text}`);
      break;
    case 'done':
      find(rest[0]).done = true;
      save(db);
      break;
    case 'rm': {
      const item = find(rest[0]);
      db.items = db.items.filter((t) => t !== item);
      save(db);
      break;
    }
    default:
      fail('usage: node todo.js add TEXT | list | done ID | rm ID', 2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
