-- professionals schema: tables are added by the professionals capability.
SELECT 1;
