/**
 * Per-connection pipelining of publishes that wait for their durable commit.
 *
 * aedes reads a socket one chunk at a time: it parses the chunk, handles its packets concurrently
 * and reads the next chunk only once every packet of this one is done — `client._parsingBatch`
 * counts them (aedes lib/client.js `enqueue` / `nextBatch`). The agent's authorizePublish holds a
 * reading until its group commit is durable, so each device was stop-and-wait: the publishes that
 * arrived during a commit were not even read before it ended (one publisher with 32 in flight got
 * groups of ~12 and one commit per round trip).
 *
 * A window releases a publish from that count while it waits for its commit, so aedes reads on.
 * When `limit` publishes of a connection wait, it pauses the client (aedes' own `pause()`: no more
 * reads, so TCP pushes back on the device) until one is answered; at most the packets of the socket
 * read in progress get past the limit. PUBACKs keep the order the PUBLISHes arrived in
 * (MQTT-4.6.0-2): group commits are answered in order, and a group's items in arrival order.
 * aedes' count is not restored when a publish is answered: its `done` then takes the count below
 * zero, which aedes' nextBatch clamps to 0 (= read on) — the pause is what bounds the window.
 *
 * Uses aedes internals (`_parsingBatch`, `_paused`, `conn`, `_parser`, `pause`/`resume`), present
 * since aedes 0.x; `attach` throws if one is missing, so an aedes upgrade that changes them fails
 * the agent's tests (test/agent/publishWindow.test.ts).
 */
export interface WindowClient {
  _parsingBatch: number;
  _paused?: boolean;
  conn: { read(size?: number | null): unknown; destroyed?: boolean };
  _parser: { parse(buf: Buffer): number };
  pause(): void;
  resume(): void;
}

interface WindowState {
  /** Publishes released from aedes' count and not yet answered. */
  released: number;
  /** Paused by the window (at the limit). */
  paused: boolean;
  readScheduled: boolean;
}

export class PublishWindow {
  private readonly states = new WeakMap<object, WindowState>();

  constructor(private readonly limit: number) {}

  /** Starts tracking an aedes client (right after `aedes.handle(socket)`). */
  attach(client: object): void {
    const c = client as Partial<WindowClient>;
    if (
      typeof c._parsingBatch !== 'number' ||
      typeof c.conn?.read !== 'function' ||
      typeof c._parser?.parse !== 'function' ||
      typeof c.pause !== 'function' ||
      typeof c.resume !== 'function'
    ) {
      throw new Error('aedes client lacks _parsingBatch/conn/_parser/pause/resume: PublishWindow cannot be installed');
    }
    this.states.set(client, { released: 0, paused: false, readScheduled: false });
  }

  /**
   * Called inside authorizePublish for a publish that will wait for its commit: returns the
   * function to call when it is answered (before aedes' callback).
   */
  hold(client: object): () => void {
    const state = this.states.get(client);
    if (!state) return noop;
    const c = client as WindowClient;
    state.released++;
    c._parsingBatch--;
    if (state.released >= this.limit && !state.paused) {
      state.paused = true;
      c.pause();
    } else if (c._parsingBatch <= 0) this.scheduleRead(c, state);
    return () => {
      state.released--;
      if (state.paused && state.released < this.limit) {
        state.paused = false;
        this.scheduleRead(c, state);
      }
    };
  }

  /**
   * Reads on at the next turn of the event loop — hold() runs inside aedes' parse of the current
   * chunk, and the parser is not re-entrant — as aedes' nextBatch would: resume() if paused,
   * otherwise read what the socket has buffered and parse it.
   */
  private scheduleRead(c: WindowClient, state: WindowState): void {
    if (state.readScheduled) return;
    state.readScheduled = true;
    setImmediate(() => {
      state.readScheduled = false;
      if (state.paused || c.conn.destroyed) return;
      if (c._paused) return c.resume(); // resume() reads on (its nextBatch)
      if (c._parsingBatch > 0) return;
      c._parsingBatch = 0;
      const buf = c.conn.read(null);
      if (buf) c._parser.parse(buf as Buffer);
    });
  }
}

function noop(): void {}
