-- Keys use the default BINARY collation, i.e. memcmp over UTF-8 bytes,
-- which is the ascending byte order store.List promises.
-- Times are Unix microseconds so precision does not depend on text formats.
CREATE TABLE records (
    kind       TEXT    NOT NULL,
    account    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (kind, account, key)
) WITHOUT ROWID;

CREATE INDEX records_expires_at ON records (expires_at) WHERE expires_at IS NOT NULL;
