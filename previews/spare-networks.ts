import type Docker from 'dockerode';
import type { Logger } from '../core/logger.js';
import { ownerLabels } from '../sandbox/labels.js';
import { createIsolatedNetwork, holderSpec, removeHolder } from '../sandbox/netns-holder.js';
import type { SandboxSettings } from '../sandbox/settings.js';

/** A ready network for one preview: an isolated network of its own and the started holder of its namespace. */
export interface SpareNetwork {
  readonly network: string;
  readonly holderId: string;
  /** The holder's address on the network: the app's, once it joins the holder. */
  readonly ip: string;
}

/**
 * A few isolated preview networks made ahead, each with its namespace holder already started
 * (sandbox/netns-holder.ts): a preview that takes one starts only its app's container, which joins
 * the holder. Each spare is handed out once, to one preview, and removed with it (never returned,
 * never shared). Made once previews are in use on this node (a node that serves none keeps none):
 * when the UI asks a preview's status, and after each start; removed on close, and by the start-up sweep when the process died
 * (they carry the owner labels). Each spare holds one of Docker's address pools' subnets.
 */
export class SpareNetworks {
  private readonly ready: SpareNetwork[] = [];
  private readonly making = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: { docker: Docker; sandbox: SandboxSettings; logger: Logger; size: number }) {}

  /** A ready spare, now the caller's alone; undefined when none is ready. */
  take(): SpareNetwork | undefined {
    return this.ready.shift();
  }

  /** Makes spares in the background up to the size. A failure is logged; the next refill tries again. */
  refill(): void {
    while (!this.closed && this.ready.length + this.making.size < this.o.size) {
      const p = this.make().then(
        (spare) => {
          if (this.closed) return removeHolder(this.o.docker, spare.holderId);
          this.ready.push(spare);
        },
        (err: unknown) => this.o.logger.warn({ err }, 'preview: could not make a spare network'),
      ).finally(() => this.making.delete(p));
      this.making.add(p);
    }
  }

  /** Resolves when the spares being made are ready (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.making]);
  }

  /** Removes the ready spares, and those being made once they are. */
  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
    await Promise.all(this.ready.splice(0).map((s) => removeHolder(this.o.docker, s.holderId).catch((err: unknown) => this.o.logger.warn({ err }, 'preview: could not remove a spare network'))));
  }

  private async make(): Promise<SpareNetwork> {
    const { docker, sandbox } = this.o;
    const labels = ownerLabels(sandbox.namespace, sandbox.extraLabels);
    const network = await createIsolatedNetwork(docker, labels);
    let holderId: string | undefined;
    try {
      const holder = await docker.createContainer(holderSpec(sandbox.image, network, labels));
      holderId = holder.id;
      await holder.start();
      const ip = (await holder.inspect()).NetworkSettings.Networks[network]?.IPAddress;
      if (!ip) throw new Error(`the holder has no address on ${network}`);
      return { network, holderId, ip };
    } catch (err) {
      if (holderId) await removeHolder(docker, holderId).catch(() => undefined);
      else await docker.getNetwork(network).remove().catch(() => undefined);
      throw err;
    }
  }
}
