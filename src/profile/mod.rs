//! The profile: model, decoding, merging, filtering.

pub mod decode;
pub mod encode;
pub mod filter;
pub mod load;
pub mod merge;
pub mod model;

pub use load::{load, parse, LoadError};
pub use merge::MergeError;
pub use model::{
    Function, Label, Line, Location, Mapping, Profile, Samples, StrId, Strings, ValueType,
};
