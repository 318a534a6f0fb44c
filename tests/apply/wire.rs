//! The apply transaction as data. (Filled in below.)
