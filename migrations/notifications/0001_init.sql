-- notifications schema: tables are added by the notifications capability.
SELECT 1;
