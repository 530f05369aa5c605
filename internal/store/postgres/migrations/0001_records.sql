-- COLLATE "C" makes key order plain byte order whatever the database
-- locale is, which is the order store.List promises and the order that
-- After/Next pagination relies on.
CREATE TABLE records (
    kind       text COLLATE "C" NOT NULL,
    account    text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    data       bytea            NOT NULL,
    version    bigint           NOT NULL,
    created_at timestamptz      NOT NULL,
    updated_at timestamptz      NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (kind, account, key)
);

CREATE INDEX records_expires_at ON records (expires_at) WHERE expires_at IS NOT NULL;
