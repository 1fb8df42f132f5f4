-- Projects with members and roles. Every user gets a personal project
-- (named by their email) holding the experiments they had; the first user
-- with a password (or, failing that, the first user) becomes the admin.

CREATE TABLE projects (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	personal_of INTEGER UNIQUE REFERENCES users(id) ON DELETE CASCADE,
	created_at  INTEGER NOT NULL
);

CREATE TABLE project_members (
	project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX project_members_user ON project_members(user_id);

ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN invited  INTEGER NOT NULL DEFAULT 0;

-- A key may be limited to one project (deleted with it) and to an access level.
ALTER TABLE api_keys ADD COLUMN project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD COLUMN access TEXT NOT NULL DEFAULT 'full';

ALTER TABLE experiments ADD COLUMN project_id INTEGER NOT NULL DEFAULT 0;

INSERT INTO projects(name, personal_of, created_at) SELECT email, id, created_at FROM users;
INSERT INTO project_members(project_id, user_id, role, created_at) SELECT id, personal_of, 'owner', created_at FROM projects;
UPDATE experiments SET project_id = (SELECT p.id FROM projects p WHERE p.personal_of = experiments.user_id);
CREATE INDEX experiments_project_created ON experiments(project_id, created_at);
UPDATE users SET is_admin = 1 WHERE id = (SELECT id FROM users ORDER BY password_hash = '', created_at, id LIMIT 1);
