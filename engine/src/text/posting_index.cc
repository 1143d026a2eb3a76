// Implemented in #26 (see posting_index.h).
