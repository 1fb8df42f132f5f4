// One EventSource per experiment, shared by every component that watches it
// (charts, the header, the rollout browser), closed when the last one leaves.
// The server sends the new data itself, so watchers append instead of refetching.
import { useEffect, useRef } from 'preact/hooks';
import { fixRollout, num, type Experiment, type Rollout, type ScalarEvent, type WireNumber } from '../api';

export interface LiveHandlers {
  scalars?: (points: ScalarEvent[]) => void;
  rollouts?: (rollouts: Rollout[]) => void;
  experiment?: (e: Experiment) => void;
  /** The stream could not resume where it left off (the server no longer had
   * the events it missed, or restarted): data may have been missed, refetch. */
  reconnected?: () => void;
}

interface Channel {
  source: EventSource;
  handlers: Set<LiveHandlers>;
}

const channels = new Map<string, Channel>();

function open(id: string): Channel {
  const source = new EventSource(`/api/experiments/${encodeURIComponent(id)}/events`, { withCredentials: true });
  const ch: Channel = { source, handlers: new Set() };
  source.addEventListener('scalars', (e) => {
    const data = JSON.parse((e as MessageEvent).data) as { scalars: (ScalarEvent & { value: WireNumber })[] };
    const pts = data.scalars.map((p) => ({ ...p, value: num(p.value), ts: num(p.ts as WireNumber) }));
    ch.handlers.forEach((h) => h.scalars?.(pts));
  });
  source.addEventListener('rollouts', (e) => {
    const data = JSON.parse((e as MessageEvent).data) as { rollouts: Rollout[] };
    const rs = data.rollouts.map(fixRollout);
    ch.handlers.forEach((h) => h.rollouts?.(rs));
  });
  source.addEventListener('experiment', (e) => {
    const data = JSON.parse((e as MessageEvent).data) as { experiment: Experiment };
    ch.handlers.forEach((h) => h.experiment?.(data.experiment));
  });
  // EventSource reconnects by itself and sends the last event id it saw; the
  // server replays what was missed, or sends "reset" when it cannot.
  source.addEventListener('reset', () => {
    ch.handlers.forEach((h) => h.reconnected?.());
  });
  return ch;
}

/** Watch an experiment's events; returns the function that stops watching. */
export function watch(id: string, h: LiveHandlers): () => void {
  let ch = channels.get(id);
  if (!ch) {
    ch = open(id);
    channels.set(id, ch);
  }
  ch.handlers.add(h);
  return () => {
    const c = channels.get(id);
    if (!c) return;
    c.handlers.delete(h);
    if (c.handlers.size === 0) {
      c.source.close();
      channels.delete(id);
    }
  };
}

/** Hook form of watch; handlers may change between renders without reconnecting. */
export function useLive(id: string | null | undefined, h: LiveHandlers, enabled = true): void {
  const ref = useRef(h);
  ref.current = h;
  useEffect(() => {
    if (!id || !enabled) return;
    return watch(id, {
      scalars: (p) => ref.current.scalars?.(p),
      rollouts: (r) => ref.current.rollouts?.(r),
      experiment: (e) => ref.current.experiment?.(e),
      reconnected: () => ref.current.reconnected?.(),
    });
  }, [id, enabled]);
}
