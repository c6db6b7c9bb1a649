-- One row per document the relay streamed to completion and archived.
-- The bytes live in the object store under their SHA-256.
CREATE TABLE archived_documents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    profile TEXT NOT NULL,
    version TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    window_start DATE,
    window_end DATE,
    subscription TEXT,
    format TEXT NOT NULL,
    vendor_status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    bytes BIGINT NOT NULL CHECK (bytes >= 0),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    fetched_by TEXT,
    fetched_at TIMESTAMPTZ NOT NULL,
    request_id BIGINT NOT NULL
);

CREATE INDEX archived_documents_by_profile ON archived_documents (profile, id);
CREATE INDEX archived_documents_by_hash ON archived_documents (sha256);
CREATE INDEX archived_documents_by_age ON archived_documents (fetched_at);
CREATE INDEX archived_documents_by_request ON archived_documents (request_id);
