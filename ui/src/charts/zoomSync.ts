// Zoom shared by every chart on a page (a toggle, on by default): dragging a
// step range on one chart shows that range on all of them, and a reset
// resets all, so a spike in the loss is read against the KL at the same steps.
export interface Zoomable {
  applyZoom(range: [number, number] | null): void;
}

const members = new Set<Zoomable>();
let on = true;

export function setZoomSync(enabled: boolean): void {
  on = enabled;
}

export function zoomSyncOn(): boolean {
  return on;
}

export function joinZoom(c: Zoomable): () => void {
  members.add(c);
  return () => void members.delete(c);
}

/** Tell the other charts of a zoom (or a reset: null) that from made. */
export function shareZoom(from: Zoomable, range: [number, number] | null): void {
  if (!on) return;
  for (const c of members) if (c !== from) c.applyZoom(range);
}
