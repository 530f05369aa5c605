-- Token buckets of store.Take: tokens left as of updated_at (Unix
-- microseconds of the store clock). A missing row is a full bucket.
CREATE TABLE rate_buckets (
    bucket     TEXT    NOT NULL PRIMARY KEY,
    tokens     REAL    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
