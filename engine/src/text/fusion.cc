// Implemented in #26 (see fusion.h).
