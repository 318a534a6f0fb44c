//! Semantic checks of a loaded topology and lowering to the desired row model.
