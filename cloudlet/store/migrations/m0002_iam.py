"""IAM's tables. IAM is global per account: every row is keyed by account, never region.
Names of users, groups, roles, policies and instance profiles are unique per account
regardless of case, as in AWS (NOCASE); so are the tag keys of one IAM resource (a tag
`department` replaces `Department`)."""

_TABLES = [
    """CREATE TABLE iam_users (
        account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,
        path TEXT NOT NULL, created REAL NOT NULL, boundary TEXT,
        PRIMARY KEY (account, name))""",
    """CREATE TABLE iam_groups (
        account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,
        path TEXT NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (account, name))""",
    """CREATE TABLE iam_group_members (
        account TEXT NOT NULL, group_name TEXT NOT NULL COLLATE NOCASE,
        user_name TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (account, group_name, user_name))""",
    """CREATE TABLE iam_roles (
        account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,
        path TEXT NOT NULL, created REAL NOT NULL, trust_policy TEXT NOT NULL,
        description TEXT, max_session_duration INTEGER NOT NULL, boundary TEXT,
        last_used REAL, last_used_region TEXT,
        PRIMARY KEY (account, name))""",
    """CREATE TABLE iam_instance_profiles (
        account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL,
        path TEXT NOT NULL, created REAL NOT NULL, role_name TEXT COLLATE NOCASE,
        PRIMARY KEY (account, name))""",
    """CREATE TABLE iam_tags (
        account TEXT NOT NULL, entity_type TEXT NOT NULL,
        entity_name TEXT NOT NULL COLLATE NOCASE, key TEXT NOT NULL COLLATE NOCASE,
        value TEXT NOT NULL,
        PRIMARY KEY (account, entity_type, entity_name, key))""",
    """CREATE TABLE iam_policies (
        account TEXT NOT NULL, arn TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
        id TEXT NOT NULL, path TEXT NOT NULL, description TEXT, created REAL NOT NULL,
        updated REAL NOT NULL, default_version TEXT NOT NULL, next_version INTEGER NOT NULL,
        PRIMARY KEY (account, arn))""",
    """CREATE UNIQUE INDEX iam_policies_name ON iam_policies (account, name)""",
    """CREATE TABLE iam_policy_versions (
        account TEXT NOT NULL, arn TEXT NOT NULL, version TEXT NOT NULL,
        document TEXT NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (account, arn, version))""",
    """CREATE TABLE iam_attachments (
        account TEXT NOT NULL, policy_arn TEXT NOT NULL, entity_type TEXT NOT NULL,
        entity_name TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (account, policy_arn, entity_type, entity_name))""",
    """CREATE TABLE iam_inline_policies (
        account TEXT NOT NULL, entity_type TEXT NOT NULL,
        entity_name TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,
        document TEXT NOT NULL,
        PRIMARY KEY (account, entity_type, entity_name, name))""",
    """CREATE TABLE iam_access_keys (
        access_key_id TEXT PRIMARY KEY, account TEXT NOT NULL,
        user_name TEXT NOT NULL COLLATE NOCASE, secret TEXT NOT NULL, status TEXT NOT NULL,
        created REAL NOT NULL, last_used REAL, last_used_service TEXT,
        last_used_region TEXT)""",
    """CREATE INDEX iam_access_keys_user ON iam_access_keys (account, user_name)""",
    """CREATE TABLE iam_login_profiles (
        account TEXT NOT NULL, user_name TEXT NOT NULL COLLATE NOCASE,
        password TEXT NOT NULL, reset_required INTEGER NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (account, user_name))""",
]


def migrate(conn):
    for statement in _TABLES:
        conn.execute(statement)
