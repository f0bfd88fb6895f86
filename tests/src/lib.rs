//! Integration tests that drive the real binaries.
