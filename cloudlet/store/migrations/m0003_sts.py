"""STS sessions (temporary credentials) and IAM's OpenID Connect providers."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE sts_sessions (
            access_key_id TEXT PRIMARY KEY,
            secret        TEXT NOT NULL,
            token         TEXT NOT NULL,
            account       TEXT NOT NULL,
            kind          TEXT NOT NULL,   -- assumed-role | user | root | federated-user
            arn           TEXT NOT NULL,
            user_id       TEXT NOT NULL,
            name          TEXT,
            issued        REAL NOT NULL,
            expiration    REAL NOT NULL,   -- epoch seconds on the service clock
            session       TEXT NOT NULL    -- JSON: role, policies, tags, source identity
        )"""
    )
    conn.execute("CREATE INDEX sts_sessions_expiration ON sts_sessions (expiration)")
    conn.execute(
        """CREATE TABLE iam_oidc_providers (
            account     TEXT NOT NULL,
            path        TEXT NOT NULL,     -- host/path, no scheme: the ARN's resource part
            url         TEXT NOT NULL,     -- as given to CreateOpenIDConnectProvider
            client_ids  TEXT NOT NULL,     -- JSON list
            thumbprints TEXT NOT NULL,     -- JSON list
            tags        TEXT NOT NULL,     -- JSON list of {Key, Value}
            created     REAL NOT NULL,
            PRIMARY KEY (account, path)
        )"""
    )
