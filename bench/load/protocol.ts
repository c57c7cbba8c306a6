import type { HistogramData } from '../lib/stats.ts';

/** One client socket a load worker owns: where it connects, as whom, and the group it is in. */
export interface ClientSpec {
  url: string;
  /** Access token (chat) or connection JWT (centrifugo); none for the bare pair. */
  token?: string;
  userId: string;
  /** Conversation id (chat), room (bare) or channel (centrifugo). */
  group: string;
}

export type Kind = 'chat' | 'bare' | 'centrifugo';

export type Command =
  | { cmd: 'connect'; id: number; kind: Kind; clients: ClientSpec[]; concurrency: number; reconnection: boolean; timeoutMs: number }
  | { cmd: 'step'; id: number; step: number; rate: number; durationMs: number }
  | { cmd: 'progress'; id: number; step: number }
  | { cmd: 'collect'; id: number; step: number }
  | { cmd: 'status'; id: number }
  | { cmd: 'close'; id: number };

export interface ConnectReply {
  connected: number;
  failed: number;
  ms: number;
  errors: string[];
}

export interface StepReply {
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  /** Acked messages per group, to know how many receptions to expect. */
  ackedByGroup: Array<[string, number]>;
  /** Wall-clock ms of the first and last send. */
  firstSend: number;
  lastSend: number;
}

export interface CollectReply {
  /** Acked message keys of this worker, with their group. */
  acked: Array<[string, string]>;
  /** Receptions per message key by this worker's sockets (each socket counted once). */
  received: Record<string, number>;
  duplicates: number;
  latency: HistogramData;
  ackLatency: HistogramData;
  lastReceive: number;
}

export interface StatusReply {
  connected: number;
  total: number;
  /** Connected sockets per group. */
  groups: Record<string, number>;
}

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
