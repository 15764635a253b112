import net from 'node:net';

/**
 * HAProxy's runtime API over its stats socket (non-interactive mode: one line of commands per
 * connection, separated by `;`, answered until HAProxy closes the connection).
 */
export class HaproxyAdmin {
  constructor(private readonly socketPath: string) {}

  /** Runs the commands in one connection; their answers, concatenated. */
  run(commands: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.socketPath);
      let out = '';
      socket.setEncoding('utf8');
      socket.setTimeout(10_000, () => socket.destroy(new Error('HAProxy runtime API: no answer in 10 s')));
      socket.on('data', (chunk: string) => (out += chunk));
      socket.on('error', reject);
      socket.on('end', () => resolve(out));
      socket.write(`${commands.join(';')}\n`);
    });
  }

  /** Runs commands that answer nothing when they succeed (add/set/del map); throws with HAProxy's answer otherwise. */
  async change(commands: string[]): Promise<void> {
    // The runtime API takes one line; large updates go in slices.
    for (let i = 0; i < commands.length; i += 200) {
      const answer = (await this.run(commands.slice(i, i + 200))).trim();
      if (answer) throw new Error(`HAProxy runtime API: ${answer.split('\n')[0]}`);
    }
  }
}
