//! The `bitcraps` command-line tool.

fn main() {}
