"""EC2 (the VPC half first): every resource one row, its AWS shape as JSON.

`ec2_resources` holds VPCs, subnets, route tables, gateways, addresses, security groups and
their rules, network ACLs, interfaces, endpoints, DHCP options and flow logs, keyed by
(account, region, id). The columns beside `doc` are what Describe* narrows by before it
reads a document: `kind` (AWS's resource type, as TagSpecifications names it), `vpc_id`,
`parent` (a security group rule's group), `name` (a security group's name) and `seq`
(creation order, which pagination follows). Tags live in `ec2_tags`, so that `tag:Key`
filters are an index lookup. `ec2_public_ips` hands out each public address once across
all accounts; `ec2_places` records the regions whose default VPC was made."""


def migrate(conn):
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


SCHEMA = """
    CREATE TABLE IF NOT EXISTS ec2_resources (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
        kind TEXT NOT NULL, vpc_id TEXT, parent TEXT, name TEXT,
        seq INTEGER NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (account, region, id));
    CREATE INDEX IF NOT EXISTS ec2_resources_kind ON ec2_resources (account, region, kind, seq);
    CREATE INDEX IF NOT EXISTS ec2_resources_vpc ON ec2_resources (account, region, vpc_id, kind);
    CREATE INDEX IF NOT EXISTS ec2_resources_parent ON ec2_resources (account, region, parent);
    CREATE INDEX IF NOT EXISTS ec2_resources_name ON ec2_resources (account, region, kind, name);
    CREATE TABLE IF NOT EXISTS ec2_tags (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL,
        value TEXT NOT NULL, kind TEXT NOT NULL,
        PRIMARY KEY (account, region, id, key));
    CREATE INDEX IF NOT EXISTS ec2_tags_key ON ec2_tags (account, region, key, value);
    CREATE TABLE IF NOT EXISTS ec2_public_ips (
        address TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
        owner TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS ec2_places (
        account TEXT NOT NULL, region TEXT NOT NULL, default_vpc TEXT,
        PRIMARY KEY (account, region))
"""
