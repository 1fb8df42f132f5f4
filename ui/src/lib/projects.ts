// The caller's projects and their role in each, fetched once and shared by
// every page (the switcher, the experiment list, an experiment's controls);
// a change to a project or its members refreshes them.
import { useEffect, useState } from 'preact/hooks';
import { api, type Project, type Role } from '../api';

let cache: Promise<Project[]> | null = null;
const listeners = new Set<(p: Project[]) => void>();

function load(): Promise<Project[]> {
  if (!cache) {
    cache = api.projects().then(
      (r) => r.projects,
      (e) => {
        cache = null; // try again next time
        throw e;
      },
    );
    void cache.then(
      (list) => listeners.forEach((f) => f(list)),
      () => undefined,
    );
  }
  return cache;
}

/** Forget the projects (after a create, a delete or a member change) and fetch them again. */
export function refreshProjects(): void {
  cache = null;
  void load().catch(() => undefined);
}

/** The caller's projects; null while loading. */
export function useProjects(): Project[] | null {
  const [list, setList] = useState<Project[] | null>(null);
  useEffect(() => {
    listeners.add(setList);
    load().then(setList, () => setList([]));
    return () => void listeners.delete(setList);
  }, []);
  return list;
}

/** Whether a role may log, edit and delete runs. */
export const canEdit = (role: Role | undefined | null): boolean => role === 'owner' || role === 'editor';

/** The project with this id in list, if the caller has it. */
export function projectOf(list: Project[] | null, id: number | undefined): Project | undefined {
  return list?.find((p) => p.id === id);
}

/** A project as people read it: shared ones by name, a personal one as "Personal" for its owner. */
export function projectLabel(p: Project | undefined, me?: string): string {
  if (!p) return '';
  if (p.personal) return p.name === me ? 'Personal' : `${p.name} (personal)`;
  return p.name;
}
