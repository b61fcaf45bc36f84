//! The declarative catalog.

pub mod file;
