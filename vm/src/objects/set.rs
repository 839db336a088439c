//! Set and frozenset storage: the dict's hash table with keys only.

use std::cell::RefCell;

use crate::objects::dict::DictData;

/// Keys live in a `DictData` whose values are all `Value::Null`.
pub type PySet = RefCell<DictData>;
