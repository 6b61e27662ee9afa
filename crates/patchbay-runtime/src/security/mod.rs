//! PLACEHOLDER — being written in its own worktree.
