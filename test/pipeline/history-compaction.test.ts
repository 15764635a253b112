import type { Message } from '../../llm/providers/port.js';
import { compactHistory, withShortArguments } from '../../agents/pipeline/history-compaction.js';

const big = 'x'.repeat(50_000);
const turn = (i: number): Message[] => [
  { role: 'assistant', content: '', toolCalls: [{ id: `c${i}`, name: 'write_file', arguments: JSON.stringify({ path: `f${i}.js`, content: big }) }] },
  { role: 'tool', toolCallId: `c${i}`, name: 'write_file', content: `Wrote f${i}.js\n${big}` },
];

describe('a tool loop’s prompt stays bounded', () => {
  test('old results and arguments are shortened; the recent turns and the task stay verbatim', () => {
    const messages: Message[] = [{ role: 'user', content: big }, ...Array.from({ length: 30 }, (_, i) => turn(i)).flat()];
    compactHistory(messages, 6);
    const size = (m: Message[]) => JSON.stringify(m).length;
    expect(messages[0]).toEqual({ role: 'user', content: big });
    // The 6 newest turns keep their content; the 24 older ones are cut to a few hundred characters.
    expect(size(messages.slice(-12))).toBeGreaterThan(6 * 2 * 50_000);
    expect(size(messages.slice(1, -12))).toBeLessThan(24 * 2 * 1_000);
    const old = messages[1] as Extract<Message, { role: 'assistant' }>;
    expect(JSON.parse(old.toolCalls![0]!.arguments)).toEqual({ path: 'f0.js', content: '(50000 characters omitted)' });
    expect((messages[2] as Extract<Message, { role: 'tool' }>).content).toMatch(/^Wrote f0\.js\nx+\n… \(\d+ more characters; shortened/);
  });

  test('a refused call’s arguments become a note that is still a JSON object', () => {
    const call = { id: 'c', name: 'write_file', arguments: JSON.stringify({ path: 'huge.bin', content: big }) };
    expect(JSON.parse(withShortArguments(call).arguments)).toEqual({ path: 'huge.bin', content: '(50000 characters omitted)' });
    expect(JSON.parse(withShortArguments({ ...call, arguments: `{"path": "a", "content": "${big}` }).arguments)).toEqual({ omitted: `${big.length + 26} characters of arguments that were not valid JSON` });
  });
});
