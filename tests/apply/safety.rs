//! What apply must never write. (Filled in below.)
