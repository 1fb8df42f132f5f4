// The same prompt's rollouts across the compared runs, side by side: pick
// a mode, a step that the runs share and one of its prompts; each run is
// a column of its samples (answer previews and rewards), each opening in
// its own experiment.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Experiment, type Rollout } from '../api';
import { previewQuery } from '../lib/reasoning';
import { Name } from '../lib/Name';
import { answerPreview, fmtNum, oneLine, rewardNames, rewardOf } from '../rollouts/format';
import { DiffView } from '../rollouts/DiffView';

interface Run {
  exp: Experiment;
  colour: string;
}

export function CompareRollouts(p: { runs: Run[] }) {
  const [steps, setSteps] = useState<Map<string, { mode: string; step: number }[]> | null>(null);
  const [mode, setMode] = useState('train');
  const [step, setStep] = useState<number | null>(null);
  const [prompts, setPrompts] = useState<string[]>([]);
  const [prompt, setPrompt] = useState<string | null>(null);
  const [cols, setCols] = useState<Map<string, Rollout[] | string>>(new Map());
  // Two samples picked (from any runs) to read side by side with a line diff, fetched whole.
  const [picked, setPicked] = useState<{ exp: string; id: number }[]>([]);
  const [pair, setPair] = useState<{ a: Rollout; b: Rollout | null; error: string | null } | null>(null);
  useEffect(() => {
    if (picked.length < 2) return setPair(null);
    let live = true;
    const [x, y] = picked;
    Promise.all([api.rollout(x.exp, x.id), api.rollout(y.exp, y.id)]).then(
      ([a, b]) => live && setPair({ a, b, error: null }),
      (e: Error) => live && setPair((p) => (p ? { ...p, error: e.message } : null)),
    );
    return () => {
      live = false;
    };
  }, [picked]);
  const togglePick = (exp: string, id: number) =>
    setPicked((ps) => (ps.some((p) => p.id === id && p.exp === exp) ? ps.filter((p) => !(p.id === id && p.exp === exp)) : [...ps, { exp, id }].slice(-2)));
  const ids = p.runs.map((r) => r.exp.id).join(',');

  useEffect(() => {
    let live = true;
    Promise.all(p.runs.map((r) => api.rolloutSteps(r.exp.id).then((s) => [r.exp.id, s.steps] as const, () => [r.exp.id, []] as const))).then(
      (all) => live && setSteps(new Map(all.map(([id, s]) => [id, s.map((x) => ({ mode: x.mode, step: x.step }))]))),
    );
    return () => {
      live = false;
    };
  }, [ids]);

  const modes = useMemo(() => [...new Set([...(steps?.values() ?? [])].flatMap((s) => s.map((x) => x.mode)))], [steps]);
  // The steps every run has rollouts at, in this mode.
  const shared = useMemo(() => {
    if (!steps || !p.runs.length) return [];
    const sets = p.runs.map((r) => new Set((steps.get(r.exp.id) ?? []).filter((x) => x.mode === mode).map((x) => x.step)));
    return [...sets[0]].filter((s) => sets.every((x) => x.has(s))).sort((a, b) => a - b);
  }, [steps, mode, ids]);
  useEffect(() => {
    if (shared.length && (step === null || !shared.includes(step))) setStep(shared[shared.length - 1]);
  }, [shared]);

  // The prompts of that step, from the first run.
  useEffect(() => {
    if (step === null || !p.runs.length) return;
    const c = new AbortController();
    api.groups(p.runs[0].exp.id, { mode, step, limit: 500 }, c.signal).then(
      (g) => {
        const list = g.groups.map((x) => x.promptText);
        setPrompts(list);
        setPrompt((old) => (old !== null && list.includes(old) ? old : (list[0] ?? null)));
      },
      () => undefined,
    );
    return () => c.abort();
  }, [ids, mode, step]);

  useEffect(() => {
    if (step === null || prompt === null) return;
    const c = new AbortController();
    setCols(new Map());
    for (const r of p.runs) {
      api.rollouts(r.exp.id, { mode, step, prompt, limit: 64, ...previewQuery() }, c.signal).then(
        (x) => setCols((m) => new Map(m).set(r.exp.id, x.rollouts)),
        (e: Error) => !c.signal.aborted && setCols((m) => new Map(m).set(r.exp.id, e.message)),
      );
    }
    return () => c.abort();
  }, [ids, mode, step, prompt]);

  if (!steps) return null;
  if (!modes.length) return null;
  return (
    <section class="compare-rollouts" data-testid="compare-rollouts">
      <h2>Rollouts side by side</h2>
      <div class="compare-rollouts-bar">
        <label>
          mode{' '}
          <select data-testid="compare-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
            {modes.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        {shared.length === 0 ? (
          <span class="muted">These runs share no step with rollouts in this mode.</span>
        ) : (
          <>
            <label>
              step{' '}
              <select data-testid="compare-step" value={String(step)} onChange={(e) => setStep(Number(e.currentTarget.value))}>
                {shared.map((s) => (
                  <option key={s} value={String(s)}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label class="compare-prompt">
              prompt{' '}
              <select data-testid="compare-prompt" value={prompt ?? ''} onChange={(e) => setPrompt(e.currentTarget.value)}>
                {prompts.map((t) => (
                  <option key={t} value={t}>
                    {oneLine(t, 120)}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
      </div>
      {shared.length > 0 && prompt !== null && (
        <div class="compare-rollouts-cols" style={{ gridTemplateColumns: `repeat(${p.runs.length}, minmax(0, 1fr))` }}>
          {p.runs.map((r) => {
            const rows = cols.get(r.exp.id);
            const names = Array.isArray(rows) ? rewardNames(rows) : [];
            return (
              <div class="compare-rollouts-col" data-testid="compare-column" data-id={r.exp.id} key={r.exp.id}>
                <div class="compare-rollouts-head">
                  <i class="swatch" style={{ background: r.colour }} /> <Name text={r.exp.name} />
                </div>
                {rows === undefined ? (
                  <div class="muted">Loading…</div>
                ) : typeof rows === 'string' ? (
                  <div class="error">{rows}</div>
                ) : rows.length === 0 ? (
                  <div class="muted">This run did not see this prompt at step {step}.</div>
                ) : (
                  <>
                    <div class="muted compare-means" data-testid="compare-means">
                      {rows.length} samples ·{' '}
                      {names
                        .map((n) => {
                          const vs = rows.map((x) => rewardOf(x, n)).filter((v): v is number => v !== undefined && Number.isFinite(v));
                          return `${n} ${vs.length ? fmtNum(vs.reduce((a, b) => a + b, 0) / vs.length) : '–'}`;
                        })
                        .join(' · ')}
                    </div>
                    {rows.map((x) => (
                      <div class="compare-sample-row" key={x.id}>
                        <input
                          type="checkbox"
                          data-testid="compare-pick"
                          data-id={x.id}
                          title="Pick two samples to read them side by side with a line diff"
                          checked={picked.some((p) => p.id === x.id && p.exp === r.exp.id)}
                          onChange={() => togglePick(r.exp.id, x.id)}
                        />
                        <a
                          class="compare-sample"
                          data-testid="compare-sample"
                          data-id={x.id}
                          href={`/experiments/${encodeURIComponent(r.exp.id)}?tab=rollouts&mode=${encodeURIComponent(mode)}&step=${step}&rollout=${x.id}`}
                        >
                          <span class="mono compare-sample-rewards">{x.rewards.map((w) => `${w.name} ${fmtNum(w.value)}`).join(' · ')}</span>
                          <span class="compare-sample-answer">{answerPreview(x)}</span>
                        </a>
                      </div>
                    ))}
                  </>
                )}
              </div>
            );
          })}
        </div>
      )}
      {picked.length === 1 && <p class="muted">Pick one more sample to read the two side by side.</p>}
      {pair && (
        <DiffView left={pair.a} right={pair.b} loading={false} error={pair.error} terms={[]} onClose={() => setPicked([])} onSwap={() => setPicked(([x, y]) => [y, x])} />
      )}
    </section>
  );
}
