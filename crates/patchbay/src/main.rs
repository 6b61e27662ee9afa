//! The patchbay command-line interface.

fn main() {}
