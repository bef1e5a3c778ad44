//! # BitCraps integration tests
//!
//! Cross-crate tests live in `tests/tests/`: they drive real binaries and real
//! libraries together (the `bitcraps` CLI, and as they arrive many nodes over real
//! networking with faults) and check the invariants of DESIGN.md end to end.
//!
//! This library holds only shared harness code for those tests; it must not be a
//! dependency of any production crate.
