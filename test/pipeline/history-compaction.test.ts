import type { Message } from '../../llm/providers/port.js';
import { compactHistory, LOOP_HISTORY, withShortArguments } from '../../agents/pipeline/history-compaction.js';
import { READ_CAP_CHARS, readWindow } from '../../agents/tools/read-tools.js';

type Tool = Extract<Message, { role: 'tool' }>;
type Assistant = Extract<Message, { role: 'assistant' }>;
type User = Extract<Message, { role: 'user' }>;

const big = 'x'.repeat(50_000);
const writeTurn = (i: number, content = big): Message[] => [
  { role: 'assistant', content: '', toolCalls: [{ id: `c${i}`, name: 'write_file', arguments: JSON.stringify({ path: `f${i}.js`, content }) }] },
  { role: 'tool', toolCallId: `c${i}`, name: 'write_file', content: `Wrote f${i}.js\n${content}` },
];
const size = (m: Message[]) => JSON.stringify(m).length;
const calls = (m: Message[]) => m.flatMap((x) => (x.role === 'assistant' ? (x.toolCalls ?? []).map((c) => c.id) : []));

describe('a tool loop’s prompt stays bounded', () => {
  test('the newest result stays whole, the next turns are shortened, older ones are listed under the task', () => {
    const task = `Build it.\n${'t'.repeat(10_000)}`;
    const messages: Message[] = [{ role: 'user', content: task }, ...Array.from({ length: 30 }, (_, i) => writeTurn(i)).flat()];
    compactHistory(messages);
    // One whole turn (50 KB is over the verbatim budget alone) and LOOP_HISTORY.shortenedTurns shortened ones are left.
    expect(calls(messages)).toEqual(Array.from({ length: 1 + LOOP_HISTORY.shortenedTurns }, (_, i) => `c${29 - LOOP_HISTORY.shortenedTurns + i}`));
    expect((messages.at(-1) as Tool).content).toBe(`Wrote f29.js\n${big}`);
    expect(JSON.parse((messages.at(-2) as Assistant).toolCalls![0]!.arguments)).toEqual({ path: 'f29.js', content: big });
    const oldest = messages[1] as Assistant;
    expect(JSON.parse(oldest.toolCalls![0]!.arguments)).toEqual({ path: 'f23.js', content: '(50000 characters omitted)' });
    expect((messages[2] as Tool).content).toMatch(/^Wrote f23\.js\nx+\n… \(\d+ more characters; shortened/);
    // The task is kept as it was, followed by one line per dropped call, oldest first.
    const first = (messages[0] as User).content;
    expect(first.startsWith(`${task}\n\n## Earlier tool calls`)).toBe(true);
    const listed = first.split('\n').filter((l) => l.startsWith('- '));
    expect(listed).toHaveLength(23);
    expect(listed[0]).toBe('- write_file {"path":"f0.js","content":"(50000 characters omitted)"} → 50012 characters');
    expect(listed[22]).toContain('"f22.js"');
  });

  test('the prompt at turn 100 is no bigger than at turn 60: old calls beyond the list are only counted', () => {
    const messages: Message[] = [{ role: 'user', content: 'Build it.' }];
    const sizes: number[] = [];
    for (let i = 0; i < 100; i++) {
      compactHistory(messages);
      sizes.push(size(messages));
      messages.push(...writeTurn(i, `${i}`.padEnd(20_000, 'y')));
    }
    compactHistory(messages);
    // Once the list is full (turn 60), only the count's digits can grow.
    expect(sizes[99]).toBeLessThanOrEqual(sizes[59]! + 2);
    const lines = (messages[0] as User).content.split('\n').filter((l) => l.startsWith('- '));
    const kept = calls(messages).length;
    expect(lines[0]).toBe(`- (${100 - kept - LOOP_HISTORY.listedDropped} earlier calls)`);
    expect(lines).toHaveLength(1 + LOOP_HISTORY.listedDropped);
    // The list ends with the call just older than the oldest kept turn: nothing is lost from the middle.
    expect(lines.at(-1)).toContain(`"f${100 - kept - 1}.js"`);
  });

  test('small results are kept whole by size, not by a number of turns', () => {
    const messages: Message[] = [{ role: 'user', content: 'Fix the tests.' }, ...Array.from({ length: 40 }, (_, i) => writeTurn(i, 'z'.repeat(500))).flat()];
    const before = size(messages);
    compactHistory(messages);
    expect(size(messages)).toBe(before);
  });

  test('a dropped call that failed is listed with its error; compacting again changes nothing', () => {
    const messages: Message[] = [
      { role: 'user', content: 'Do it.' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'bad', name: 'run_command', arguments: '{"command":"npm tset"}' }] },
      { role: 'tool', toolCallId: 'bad', name: 'run_command', content: 'exit code 1\nUnknown command: "tset"', isError: true },
      ...Array.from({ length: 10 }, (_, i) => writeTurn(i)).flat(),
    ];
    compactHistory(messages);
    expect((messages[0] as User).content).toContain('- run_command {"command":"npm tset"} → error: exit code 1');
    const once = JSON.stringify(messages);
    compactHistory(messages);
    expect(JSON.stringify(messages)).toBe(once);
  });

  test('chat history (questions and answers) is never removed; dropped calls are listed under the question they served', () => {
    const history: Message[] = [
      { role: 'user', content: 'What does index.js do?' },
      { role: 'assistant', content: 'It starts the server.' },
      { role: 'user', content: 'And the tests?' },
    ];
    const messages: Message[] = [...history, ...Array.from({ length: 12 }, (_, i) => writeTurn(i)).flat()];
    compactHistory(messages);
    expect(messages.slice(0, 2)).toEqual(history.slice(0, 2));
    expect((messages[2] as User).content).toMatch(/^And the tests\?\n\n## Earlier tool calls/);
  });

  test('a refused call’s arguments become a note that is still a JSON object', () => {
    const call = { id: 'c', name: 'write_file', arguments: JSON.stringify({ path: 'huge.bin', content: big }) };
    expect(JSON.parse(withShortArguments(call).arguments)).toEqual({ path: 'huge.bin', content: '(50000 characters omitted)' });
    expect(JSON.parse(withShortArguments({ ...call, arguments: `{"path": "a", "content": "${big}` }).arguments)).toEqual({ omitted: `${big.length + 26} characters of arguments that were not valid JSON` });
  });
});

describe('read_file shows a long file in windows of whole lines', () => {
  const file = Array.from({ length: 3000 }, (_, i) => `line ${i + 1}: ${'-'.repeat(30)}`).join('\n') + '\n';

  test('a short file comes back as it is', () => {
    expect(readWindow('a.js', 'const a = 1;\n')).toBe('const a = 1;\n');
  });

  test('reading on from each footer gives the whole file back, every window under the cap', () => {
    const parts: string[] = [];
    let from = 1;
    for (;;) {
      const w = readWindow('big.js', file, from);
      expect(w.length).toBeLessThanOrEqual(READ_CAP_CHARS + 120);
      const footer = /\n… \(big\.js: lines (\d+)–(\d+) of 3000 shown; (?:read on with fromLine: (\d+)|the end of the file)\)$/.exec(w);
      expect(footer).not.toBeNull();
      expect(Number(footer![1])).toBe(from);
      parts.push(w.slice(0, footer!.index));
      if (!footer![3]) break;
      from = Number(footer![3]);
    }
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.join('\n') + '\n').toBe(file);
  });

  test('a line past the end is an error the model can act on; a minified line is cut and said so', () => {
    expect(() => readWindow('big.js', file, 3001)).toThrow('big.js has 3000 lines; fromLine 3001 is past its end.');
    const minified = 'x'.repeat(READ_CAP_CHARS * 2);
    expect(readWindow('app.min.js', minified)).toMatch(/^x{16000}\n… \(line 1 of app\.min\.js is 32000 characters long, cut at 16000/);
  });
});
