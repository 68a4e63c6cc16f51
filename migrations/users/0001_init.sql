-- users schema: tables are added by the users capability.
SELECT 1;
