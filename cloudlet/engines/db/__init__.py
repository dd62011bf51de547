"""Real database servers for RDS: one supervised server process per instance.

    server.py     the interface every engine implements (DatabaseServer, ServerSpec) and the
                  registry from RDS engine names to engine classes
    postgres.py   PostgreSQL from the host's packages
    mariadb.py    MariaDB from the host's packages (RDS engines `mysql` and `mariadb`)
    front.py      the TCP front on an instance's endpoint port, pointing at the current primary
    ca.py         Cloudlet's RDS certificate authority and per-instance certificates
"""
