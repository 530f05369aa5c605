-- Token buckets of store.Take, shared by every replica: tokens left as of
-- updated_at (the clock of the replica that last took, never moved
-- backwards). A missing row is a full bucket.
CREATE TABLE rate_buckets (
    bucket     text COLLATE "C" PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz      NOT NULL
);
