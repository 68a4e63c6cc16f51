-- auth schema: tables are added by the auth capability.
SELECT 1;
