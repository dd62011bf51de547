"""Real database servers for RDS: one supervised server process per instance.

    server.py     the interface every engine implements (DatabaseServer, ServerSpec) and the
                  registry from RDS engine names to engine classes
    postgres.py   PostgreSQL from the host's packages, composed of postgres_client (commands
                  and psql), postgres_backup (base backups, WAL archive, PITR) and
                  postgres_replication (replicas, synchronous standbys); postgres_config
                  writes its configuration files, postgres_host finds its binaries and user
    mariadb.py    MariaDB from the host's packages (RDS engines `mysql` and `mariadb`),
                  composed of mariadb_client, mariadb_backup and mariadb_replication
    system.py     what both engines ask of the system: /proc, disk usage, syncfs
    front.py      the TCP front on an instance's endpoint port, pointing at the current primary
    ca.py         Cloudlet's RDS certificate authority and per-instance certificates
"""
