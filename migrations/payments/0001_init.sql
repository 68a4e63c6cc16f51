-- payments schema: tables are added by the payments capability.
SELECT 1;
