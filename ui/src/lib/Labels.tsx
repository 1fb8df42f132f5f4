import { Name } from './Name';

/** An experiment's group and tags as chips; nothing when it has neither. */
export function Labels(props: { tags?: string[]; group?: string }) {
  const tags = props.tags ?? [];
  if (!tags.length && !props.group) return null;
  return (
    <span class="labels" data-testid="exp-labels">
      {props.group && (
        <span class="chip group" title="group: the processes of one distributed job" data-testid="exp-group">
          <Name text={props.group} />
        </span>
      )}
      {tags.map((t) => (
        <span key={t} class="chip tag" data-testid="exp-tag">
          <Name text={t} />
        </span>
      ))}
    </span>
  );
}
