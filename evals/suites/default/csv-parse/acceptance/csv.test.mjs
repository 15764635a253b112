import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { parseCsv } = await import(pathToFileURL(path.resolve('csv.js')).href);

test('plain records, \\n and \\r\\n, no empty record at the end', () => {
  assert.deepEqual(parseCsv('a,b\r\n1,2\n3,4\n'), [['a', 'b'], ['1', '2'], ['3', '4']]);
});
test('quoted fields keep commas, newlines and doubled quotes', () => {
  assert.deepEqual(parseCsv('"x,y","line1\nline2","say ""hi"""\n'), [['x,y', 'line1\nline2', 'say "hi"']]);
});
test('empty fields', () => {
  assert.deepEqual(parseCsv('a,,c\n,,\n'), [['a', '', 'c'], ['', '', '']]);
});
test('header: objects keyed by the first record', () => {
  assert.deepEqual(parseCsv('name,age\nAda,36\n"Lovelace, A",37', { header: true }), [
    { name: 'Ada', age: '36' },
    { name: 'Lovelace, A', age: '37' },
  ]);
});
test('an unterminated quote throws SyntaxError', () => {
  assert.throws(() => parseCsv('a,"b\n'), SyntaxError);
});
