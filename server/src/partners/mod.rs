//! Partner trip feeds: transit operators and bike-share schemes push signed
//! trip records; records of persons who linked their card confirm the trips
//! those persons logged or create trips for them.

pub mod cards;
pub mod entity;
pub mod feed;
pub mod keys;
pub mod routes;
pub mod signature;
