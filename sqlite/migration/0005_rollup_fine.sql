-- Each rollup row also keeps its 1024 steps as 16 sub-buckets of 64 steps
-- (encoding in sqlite/fine.go), so a chart asking for buckets narrower than
-- 1024 steps folds 16 summaries per row instead of 1024 raw points.
-- Backfill: every existing row is marked dirty, so the first read of each
-- series recomputes its rollups, sub-buckets included, as after a write.
ALTER TABLE rollups ADD COLUMN fine BLOB;
UPDATE rollups SET dirty = 1;
