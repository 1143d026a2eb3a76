// Implemented in #26 (see analyzer.h).
