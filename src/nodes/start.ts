import type { NodeConfig } from '../core/protocol.js';
import type { NodeTransport } from './transport.js';

/** The ways a node thread can be driven (--node-transport). */
export const TRANSPORTS = ['worker', 'piscina'] as const;
export type TransportKind = (typeof TRANSPORTS)[number];

/** Starts a node thread; resolves once it is ready for batches. Each kind is loaded only when used. */
export async function startTransport(kind: TransportKind, config: NodeConfig): Promise<NodeTransport> {
  if (kind === 'piscina') {
    const { PiscinaTransport } = await import('./piscina-transport.js');
    return PiscinaTransport.start(config);
  }
  const { WorkerTransport } = await import('./worker-transport.js');
  return WorkerTransport.start(config);
}
