// Mode buttons and the step control: slider, number box, previous/next.
// Steps with rollouts may be sparse (eval every 10 steps), so every way of
// choosing a step snaps to the nearest step that has rollouts.
import { useEffect, useState } from 'preact/hooks';

export function nearest(steps: number[], want: number): number {
  let best = steps[0];
  for (const s of steps) if (Math.abs(s - want) < Math.abs(best - want)) best = s;
  return best;
}

export function ModeToggle(props: { modes: string[]; mode: string | null; onMode: (m: string) => void }) {
  if (!props.modes.length) return null;
  return (
    <div class="rp-modes" data-testid="mode-toggle" role="group" aria-label="Mode">
      {props.modes.map((m) => (
        <button key={m} data-mode={m} class={m === props.mode ? 'on' : ''} aria-pressed={m === props.mode} onClick={() => props.onMode(m)}>
          {m}
        </button>
      ))}
    </div>
  );
}

export function StepPicker(props: { steps: number[]; step: number | null; onStep: (s: number) => void }) {
  const { steps, step } = props;
  const [draft, setDraft] = useState(step === null ? '' : String(step));
  useEffect(() => setDraft(step === null ? '' : String(step)), [step]);
  // Typing a step applies it once typing pauses, as well as on Enter or blur.
  useEffect(() => {
    if (step === null || draft === String(step)) return;
    const t = setTimeout(() => {
      const n = Number(draft);
      if (draft.trim() !== '' && Number.isFinite(n) && steps.length) {
        const s = nearest(steps, n);
        if (s !== step) props.onStep(s);
      }
    }, 500);
    return () => clearTimeout(t);
  }, [draft]);
  if (!steps.length || step === null) return null;
  const i = steps.indexOf(step);
  const first = steps[0];
  const last = steps[steps.length - 1];
  const go = (s: number) => {
    const n = nearest(steps, s);
    if (n !== step) props.onStep(n);
    else setDraft(String(n));
  };
  const commit = () => {
    const n = Number(draft);
    if (draft.trim() !== '' && Number.isFinite(n)) go(n);
    else setDraft(String(step));
  };
  return (
    <div class="rp-steps">
      <button title="Previous step ([)" disabled={i <= 0} onClick={() => props.onStep(steps[i - 1])}>
        ‹
      </button>
      <input
        type="range"
        data-testid="step-slider"
        aria-label="Step"
        min={first}
        max={last}
        step={1}
        value={step}
        disabled={steps.length < 2}
        onInput={(e) => go(Number((e.target as HTMLInputElement).value))}
      />
      <button title="Next step (])" disabled={i < 0 || i >= steps.length - 1} onClick={() => props.onStep(steps[i + 1])}>
        ›
      </button>
      <label class="rp-step-input">
        step
        <input
          type="number"
          data-testid="step-input"
          min={first}
          max={last}
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          onChange={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
          }}
        />
      </label>
      <span class="muted rp-step-range">
        {first}–{last}
      </span>
    </div>
  );
}
