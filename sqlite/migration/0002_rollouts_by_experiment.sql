-- An index on (experiment) alone is (experiment, id): a page of rollouts in
-- logging order, with any filter, walks it without sorting the experiment.
-- Without it the planner picked (experiment, mode, ...) and sorted every
-- rollout: 230 ms for a filtered page among 200k, 5 ms with it.
CREATE INDEX rollouts_experiment ON rollouts(experiment);
