import { applyEdits } from '../../agents/pipeline/edit-file.js';

const FILE = ['export function sum(a, b) {', '  return a - b;', '}', '', 'export function twice(x) {', '  return x * 2;', '}', ''].join('\n');

describe('edit_file: search/replace blocks, all or none', () => {
  test('an exact, unique search is replaced', () => {
    const r = applyEdits(FILE, [{ search: 'return a - b;', replace: 'return a + b;' }]);
    expect(r).toEqual({ ok: true, content: FILE.replace('a - b', 'a + b'), whitespaceTolerant: 0 });
  });

  test('several edits apply in order', () => {
    const r = applyEdits(FILE, [
      { search: 'a - b', replace: 'a + b' },
      { search: 'x * 2', replace: 'x + x' },
    ]);
    expect(r.ok && r.content).toBe(FILE.replace('a - b', 'a + b').replace('x * 2', 'x + x'));
  });

  test('a block sent dedented (as models often do) still matches whole lines, and keeps the file’s indentation', () => {
    const file = 'class A {\n  m() {\n    return 1;\n  }\n}\n';
    const r = applyEdits(file, [{ search: 'm() {\n  return 1;\n}', replace: 'm() {\n  return 2;\n}' }]);
    expect(r).toEqual({ ok: true, content: 'class A {\n  m() {\n    return 2;\n  }\n}\n', whitespaceTolerant: 1 });
  });

  test('trailing spaces in the search do not make it miss', () => {
    const r = applyEdits(FILE, [{ search: '  return a - b;   ', replace: '  return a + b;' }]);
    expect(r).toEqual({ ok: true, content: FILE.replace('a - b', 'a + b'), whitespaceTolerant: 1 });
  });

  test('an ambiguous search is refused with the lines it matches, and nothing changes', () => {
    const r = applyEdits(FILE, [{ search: '}', replace: '};' }]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/matches 2 places \(lines 3, 7\); include more surrounding lines/);
  });

  test('a miss is refused with the nearest lines, numbered, so the model can copy the real text', () => {
    const r = applyEdits(FILE, [{ search: 'return a-b', replace: 'return a+b' }]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('search was not found');
    expect(!r.ok && r.error).toContain('    2|   return a - b;');
  });

  test('one failing edit applies none of the others', () => {
    const r = applyEdits(FILE, [
      { search: 'a - b', replace: 'a + b' },
      { search: 'no such text', replace: 'x' },
    ]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^Edit 2 of 2: search was not found[\s\S]*No edit was applied\.$/);
  });

  test('an edit that makes a later search ambiguous is caught on the edited text', () => {
    const r = applyEdits(FILE, [
      { search: 'x * 2', replace: 'a - b' },
      { search: 'a - b', replace: 'a + b' },
    ]);
    expect(!r.ok && r.error).toMatch(/^Edit 2 of 2: search matches 2 places/);
  });
});
