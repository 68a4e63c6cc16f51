-- Login and password-reset throttling state, shared by every auth replica and kept
-- across restarts (OWASP ASVS 2.2.1: count failures per account and per address).

-- Failed logins per account key (the normalised email, known or not, so an unknown
-- email is throttled exactly like a real one and reveals nothing). A success deletes
-- the row; locked_until is the growing backoff once the free failures are spent.
CREATE TABLE login_failures (
    account_key  text        PRIMARY KEY,
    failures     integer     NOT NULL,
    last_failure timestamptz NOT NULL,
    locked_until timestamptz
);
CREATE INDEX login_failures_last ON login_failures (last_failure);

-- Fixed-window counters: failed logins per client address, forgot-password requests per
-- address and per email, bad reset tokens per address.
CREATE TABLE throttle_counters (
    key          text        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL
);
CREATE INDEX throttle_counters_window ON throttle_counters (window_start);

-- Addresses an account has logged in from successfully: while an address is over its
-- failure budget (a spray from a shared NAT), accounts that already signed in from it
-- are still let through, so colleagues behind the same office address keep working.
CREATE TABLE login_trusted_addresses (
    account_key  text        NOT NULL,
    address      text        NOT NULL,
    last_success timestamptz NOT NULL,
    PRIMARY KEY (account_key, address)
);
CREATE INDEX login_trusted_addresses_last ON login_trusted_addresses (last_success);
