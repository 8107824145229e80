//! The profile: model, decoding, merging, filtering.

pub mod budget;
pub mod decode;
pub mod encode;
pub mod filter;
pub mod legacy;
pub mod limits;
pub mod load;
pub mod merge;
pub mod model;
pub mod reserve;

pub use limits::Limits;
pub use load::{load, load_to_merge, load_with, parse, parse_with, LoadError};
pub use merge::MergeError;
pub use model::{
    Function, Label, Line, Location, Mapping, Profile, Samples, StrId, Strings, ValueType,
};
