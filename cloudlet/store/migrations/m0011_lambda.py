"""Lambda: functions, versions, aliases, layers, URLs, event source mappings.

Each row keeps its AWS shape as JSON (`doc`); the columns are what is looked up by."""


def migrate(conn):
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


SCHEMA = """
        CREATE TABLE lambda_functions (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            doc TEXT NOT NULL,              -- tags, reserved concurrency, version counter
            PRIMARY KEY (account, region, name));
        CREATE TABLE lambda_versions (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            version TEXT NOT NULL,          -- '$LATEST' or '1', '2', ...
            seq INTEGER NOT NULL,           -- 0 for $LATEST
            doc TEXT NOT NULL,              -- FunctionConfiguration, plus internal '_' keys
            PRIMARY KEY (account, region, name, version),
            FOREIGN KEY (account, region, name)
                REFERENCES lambda_functions (account, region, name) ON DELETE CASCADE);
        CREATE TABLE lambda_aliases (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            alias TEXT NOT NULL, doc TEXT NOT NULL,
            PRIMARY KEY (account, region, name, alias),
            FOREIGN KEY (account, region, name)
                REFERENCES lambda_functions (account, region, name) ON DELETE CASCADE);
        CREATE TABLE lambda_policies (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            qualifier TEXT NOT NULL,        -- '' for the unqualified function
            doc TEXT NOT NULL, revision TEXT NOT NULL,
            PRIMARY KEY (account, region, name, qualifier),
            FOREIGN KEY (account, region, name)
                REFERENCES lambda_functions (account, region, name) ON DELETE CASCADE);
        CREATE TABLE lambda_url_configs (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            qualifier TEXT NOT NULL, url_id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL,
            PRIMARY KEY (account, region, name, qualifier),
            FOREIGN KEY (account, region, name)
                REFERENCES lambda_functions (account, region, name) ON DELETE CASCADE);
        CREATE TABLE lambda_invoke_configs (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            qualifier TEXT NOT NULL, doc TEXT NOT NULL,
            PRIMARY KEY (account, region, name, qualifier),
            FOREIGN KEY (account, region, name)
                REFERENCES lambda_functions (account, region, name) ON DELETE CASCADE);
        CREATE TABLE lambda_layers (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            next_version INTEGER NOT NULL,
            PRIMARY KEY (account, region, name));
        CREATE TABLE lambda_layer_versions (
            account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            version INTEGER NOT NULL, doc TEXT NOT NULL, policy TEXT,
            PRIMARY KEY (account, region, name, version));
        CREATE TABLE lambda_event_source_mappings (
            uuid TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
            function_name TEXT NOT NULL, doc TEXT NOT NULL);
        CREATE INDEX lambda_esm_function
            ON lambda_event_source_mappings (account, region, function_name);
"""
