//! The published language: the events a context publishes that other contexts read, with the
//! one decoding function per event that every consumer uses (accepting every live version).
pub mod accounting;
pub mod accounts;
pub mod clock;
pub mod tasks;
