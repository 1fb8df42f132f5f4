-- Tags (a JSON array of strings), notes and the group of processes a run
-- belongs to: what tells runs of one name apart.
ALTER TABLE experiments ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE experiments ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN group_name TEXT NOT NULL DEFAULT '';
