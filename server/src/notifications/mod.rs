//! A person's notification inbox (issue 18): what happened to them — a
//! trip reviewed, an application or membership decided — written in the
//! transaction of the change it tells of, so nothing is told of a change
//! that rolled back. Each person chooses which kinds reach them. A
//! notification carries only its recipient's own data.

pub mod entity;
pub mod live;
pub mod routes;
pub mod service;

pub use entity::NotificationKind;
pub use service::notify;
