-- marketplace schema: tables are added by the marketplace capability.
SELECT 1;
