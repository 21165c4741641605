-- The poller's own database beside Prefect's, created on PostgreSQL's first start.
CREATE DATABASE poller OWNER poller;
