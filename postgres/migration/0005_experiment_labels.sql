-- Tags (a JSON array of strings), notes and the group of processes a run
-- belongs to: what tells runs of one name apart.
ALTER TABLE experiments ADD COLUMN tags text NOT NULL DEFAULT '[]';
ALTER TABLE experiments ADD COLUMN notes text NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN group_name text NOT NULL DEFAULT '';
